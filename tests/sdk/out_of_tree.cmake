# cmake -P script: install the SDK, build the example against it, run it through the CLI.
include(${CMAKE_CURRENT_LIST_DIR}/plugin_exports.cmake)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(expect text what)
  string(FIND "${out}${err}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected to find '${text}' in:\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/project)

# 1. Install only the SDK component, as a package would.
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdk --prefix ${WORK_DIR}/prefix)
if(NOT EXISTS ${WORK_DIR}/prefix/include/rustyolo/abi/plugin_abi.h)
  message(FATAL_ERROR "the SDK install has no plugin_abi.h")
endif()

# 2. Configure and build the example with nothing but the installed SDK.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/sdk/examples/myagent -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
set(plugin ${WORK_DIR}/build/myagent.so)
if(NOT EXISTS ${plugin})
  message(FATAL_ERROR "the example did not produce ${plugin}")
endif()
# Only rustyolo_plugin_entry is exported (the installed SDK's rustyolo_add_plugin does this).
rustyolo_check_plugin_exports(${NM} ${plugin})

# 3. The CLI loads it and runs the agent it declares (dry run: the command is printed, not run).
set(ENV{HOME} ${WORK_DIR}/home)
set(ENV{XDG_RUNTIME_DIR} "")
execute_process(COMMAND ${RUSTYOLO} --plugin ${plugin} plugins
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rustyolo plugins failed: ${out}${err}")
endif()
expect("myagent 1.0.0" "rustyolo plugins lists the third-party plugin")
expect("third-party" "it is marked third-party")
expect("agent myagent: runs /bin/echo" "it serves its agent")

execute_process(COMMAND ${RUSTYOLO} --plugin ${plugin} myagent --dry-run
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rustyolo --plugin ... myagent --dry-run failed: ${out}${err}")
endif()
expect("rustyolo-myagent-" "the dry run names the container after the agent")
expect("--cap-drop ALL" "the third-party agent gets the same hardening")

execute_process(COMMAND ${RUSTYOLO} --plugin ${plugin} plan myagent
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rustyolo plan myagent failed: ${out}${err}")
endif()
expect("myagent is running in the sandbox" "the agent's argv is in the Plan")
expect("api.myagent.test" "the agent's egress is in the Plan")
expect("required by agent: the myagent model API" "the egress carries its reason")
expect("/app/.myagent/config.json" "the agent's protected path is read-only")

# 4. A relative --plugin path is resolved against the current directory, as typed.
file(COPY ${plugin} DESTINATION ${WORK_DIR}/project/plugins)
execute_process(COMMAND ${RUSTYOLO} --plugin ./plugins/myagent.so plan myagent
                WORKING_DIRECTORY ${WORK_DIR}/project RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rustyolo --plugin ./plugins/myagent.so failed: ${out}${err}")
endif()
message(STATUS "the example plugin built out of tree and ran through the CLI")
