# The fuzzing build (RUSTYOLO_BUILD_FUZZERS=ON): clang's libFuzzer with AddressSanitizer (which
# includes LeakSanitizer) and UndefinedBehaviorSanitizer. Everything this build compiles is
# instrumented, so the fuzzers (tests/fuzz) exercise exactly the production libraries they link, with
# coverage feedback and the sanitizers' checks in them. The libraries Debian ships (toml++, Boost.JSON,
# ldns, libseccomp) are linked as they are, without instrumentation.
#
# The sanitizer runtimes are linked into executables only, so the plugins (modules linked with
# -z defs) cannot be linked in this build: it is a build directory of its own, whose default target
# builds the fuzzers and what they link (tests/fuzz/CMakeLists.txt), e.g.
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DRUSTYOLO_BUILD_FUZZERS=ON
include_guard(GLOBAL)

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "RUSTYOLO_BUILD_FUZZERS=ON needs clang for C and C++ (libFuzzer), not "
                      "${CMAKE_C_COMPILER_ID}/${CMAKE_CXX_COMPILER_ID}: configure a build directory of its own "
                      "with -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ (Debian packages clang and "
                      "libclang-rt-14-dev)")
endif()
if(RUSTYOLO_BUILD_TESTS)
  message(FATAL_ERROR "RUSTYOLO_BUILD_FUZZERS=ON instruments the whole build and cannot link the plugins the "
                      "unit tests load: configure the fuzzers in a build directory of their own, with "
                      "-DRUSTYOLO_BUILD_TESTS=OFF (scripts/fuzz.sh does)")
endif()

set(RUSTYOLO_SANITIZERS "address,undefined")
# After the build type's flags: -O1 and line tables (as OSS-Fuzz builds), which compile about a third
# faster than -O2 -g and fuzz as fast; assertions stay on.
add_compile_options(-fsanitize=${RUSTYOLO_SANITIZERS},fuzzer-no-link -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -O1 -gline-tables-only -UNDEBUG)
add_link_options(-fsanitize=${RUSTYOLO_SANITIZERS})
