# The SDK's public headers need C++17 and no more (third-party plugins may be built with an older
# compiler than the host's C++20): one translation unit includes every header under sdk/include
# (found when the test runs, so a new header is covered without editing this file) and must compile
# with -std=c++17 and every warning an error.
#   cmake -DCXX=<compiler> -DSDK_INCLUDE=<source>/sdk/include -DWORK_DIR=<dir> -P headers_cxx17.cmake
foreach(var CXX SDK_INCLUDE WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "set ${var} (see the header of this file)")
  endif()
endforeach()

file(GLOB_RECURSE headers RELATIVE ${SDK_INCLUDE} ${SDK_INCLUDE}/*.h ${SDK_INCLUDE}/*.hpp)
list(SORT headers)
if(NOT headers)
  message(FATAL_ERROR "no headers under ${SDK_INCLUDE}")
endif()
set(tu "// Written by tests/sdk/headers_cxx17.cmake: every public SDK header.\n")
foreach(header IN LISTS headers)
  string(APPEND tu "#include <${header}>\n")
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/all_sdk_headers.cc "${tu}")

set(flags -std=c++17 -Wall -Wextra -Wpedantic -Werror)
execute_process(COMMAND ${CXX} ${flags} -fsyntax-only -I${SDK_INCLUDE} ${WORK_DIR}/all_sdk_headers.cc
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  list(JOIN flags " " shown)
  message(FATAL_ERROR "the SDK headers do not compile as C++17 (${CXX} ${shown}); a public header "
                      "may use C++20 only behind #if __cplusplus >= 202002L:\n${out}${err}")
endif()
list(LENGTH headers n)
list(JOIN flags " " shown)
message(STATUS "${n} SDK headers compile with ${CXX} ${shown}")
