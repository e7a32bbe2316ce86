# The build guard in action: a plugin source that includes a core header does not compile when
# RUSTYOLO_PLUGIN_BUILD is defined (as plugins/ and agents/ define it for all their targets), and
# the compiler prints core/private_header.hpp's message. The twin: the same source compiles without
# the definition, so the failure is the guard's and not a broken header.
#   cmake -DCXX=<compiler> -DSOURCE_DIR=<source root> -DWORK_DIR=<dir> -P core_guard.cmake
foreach(var CXX SOURCE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "set ${var} (see the header of this file)")
  endif()
endforeach()

# The message the guard prints, read from the guard itself.
file(READ ${SOURCE_DIR}/core/private_header.hpp guard_text)
if(NOT guard_text MATCHES "\n#error \"([^\"\n]+)\"")
  message(FATAL_ERROR "core/private_header.hpp has no #error \"...\" line")
endif()
set(guard_message "${CMAKE_MATCH_1}")

file(MAKE_DIRECTORY ${WORK_DIR})
set(plugin_source ${WORK_DIR}/plugin_including_core.cc)
file(WRITE ${plugin_source}
  "// A plugin that reaches into the host: it must not build.\n"
  "#include <rustyolo/sdk/plugin.hpp>\n"
  "#include \"core/host/paths.hpp\"\n"
  "std::string where() { return rustyolo::builtin_plugin_dir(); }\n")
set(compile ${CXX} -std=c++20 -fsyntax-only -I${SOURCE_DIR} -I${SOURCE_DIR}/sdk/include ${plugin_source})

execute_process(COMMAND ${compile} -DRUSTYOLO_PLUGIN_BUILD
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a plugin source including core/host/paths.hpp compiled with RUSTYOLO_PLUGIN_BUILD "
                      "defined: the guard (core/private_header.hpp) did not stop it")
endif()
string(FIND "${out}${err}" "${guard_message}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the compile failed, but not with the guard's message \"${guard_message}\":\n${out}${err}")
endif()

execute_process(COMMAND ${compile} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "without RUSTYOLO_PLUGIN_BUILD the same source must compile (the host may include "
                      "core), but it failed:\n${out}${err}")
endif()
message(STATUS "the guard stops a plugin that includes core/host/paths.hpp, with its message")
