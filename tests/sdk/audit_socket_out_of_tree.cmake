# cmake -P script: install the SDK, build sdk/examples/audit-socket against it (find_package, as a
# third party would), check that it exports its entry point only, load it into the real CLI and
# check that a session whose sink cannot connect is refused with the sink's reason.
# The built plugin stays at ${WORK_DIR}/build/audit-socket.so: the integration suite
# (tests/integration/test_sdk_audit_sink.py) runs real sessions with it against the image.
include(${CMAKE_CURRENT_LIST_DIR}/plugin_exports.cmake)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

function(expect text what)
  string(FIND "${out}${err}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected to find '${text}' in:\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/project ${WORK_DIR}/home/.ssh)

# 1. Install only the SDK component, as a package would.
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdk --prefix ${WORK_DIR}/prefix)

# 2. Configure and build the example with nothing but the installed SDK.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/sdk/examples/audit-socket -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
set(plugin ${WORK_DIR}/build/audit-socket.so)
if(NOT EXISTS ${plugin})
  message(FATAL_ERROR "the example did not produce ${plugin}")
endif()

# 3. Only rustyolo_plugin_entry is exported (the installed SDK's rustyolo_add_plugin does this).
rustyolo_check_plugin_exports(${NM} ${plugin})

# 4. The CLI loads it as a third-party audit sink.
set(ENV{HOME} ${WORK_DIR}/home)
set(ENV{XDG_RUNTIME_DIR} "")
set(ENV{XDG_STATE_HOME} ${WORK_DIR}/state)
set(ENV{XDG_CONFIG_HOME} ${WORK_DIR}/config)
set(ENV{RUSTYOLO_AUDIT_SINKS} "")
execute_process(COMMAND ${RUSTYOLO} --plugin ${plugin} plugins
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rustyolo plugins failed: ${out}${err}")
endif()
expect("audit-socket 1.0.0" "rustyolo plugins lists the third-party sink")
expect("third-party" "it is marked third-party")
expect("hooks: audit" "it has the audit hooks")

# 5. The sink cannot connect: the session is refused with the sink's reason, not run unrecorded.
#    A refused mount (~/.ssh) makes the first record before anything starts, so no image is needed.
set(absent ${WORK_DIR}/absent.sock)
set(ENV{RUSTYOLO_AUDIT_SOCKET} ${absent})
execute_process(COMMAND ${RUSTYOLO} --plugin ${plugin} --audit-sink file --audit-sink socket
                        -v ${WORK_DIR}/home/.ssh:/keys exec -- true
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a session with an unreachable audit-socket sink ran: ${out}${err}")
endif()
expect("cannot connect to ${absent}: no such socket" "the sink names the socket and why")
expect("start the listener first" "the sink says what to do")

# 6. No path at all: the same, naming the setting.
unset(ENV{RUSTYOLO_AUDIT_SOCKET})
execute_process(COMMAND ${RUSTYOLO} --plugin ${plugin} --audit-sink socket
                        -v ${WORK_DIR}/home/.ssh:/keys exec -- true
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a session with an audit-socket sink and no socket path ran: ${out}${err}")
endif()
expect("set RUSTYOLO_AUDIT_SOCKET" "the sink names the setting it lacks")
message(STATUS "the audit-socket example built out of tree, exports its entry only and refuses a "
               "session it cannot record")
