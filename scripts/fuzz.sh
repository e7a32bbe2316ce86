#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# in a build directory of their own (build-fuzz/), then runs each through ctest (label fuzz): its seed
# corpus as a regression set, then RUSTYOLO_FUZZ_SECONDS (default 20) of fuzzing. Fails on any crash,
# leak, timeout or sanitizer report. ctest's "N tests passed" line counts one test per target.
#
#   scripts/fuzz.sh                          every target
#   scripts/fuzz.sh dns_query feed           only these
#   RUSTYOLO_FUZZ_SECONDS=600 scripts/fuzz.sh config   ten minutes
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
cd "$here/.."

build="${RUSTYOLO_FUZZ_BUILD_DIR:-build-fuzz}"
# ccache keeps the instrumented build cheap from one run to the next.
launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

log "fuzz: configure + build ($build, clang with ASan and UBSan)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DRUSTYOLO_BUILD_FUZZERS=ON -DRUSTYOLO_BUILD_TESTS=OFF -DRUSTYOLO_WERROR=ON "${launcher[@]}"
cmake --build "$build"

only=()
if [ "$#" -gt 0 ]; then
    only=(-R "^fuzz\\.($(IFS='|'; echo "$*"))\$")
fi
rc=0
ctest --test-dir "$build" --output-on-failure --no-tests=error -L '^fuzz$' -j "$(nproc)" "${only[@]}" || rc=$?

# Each target's executions in its timed run (libFuzzer's final stats).
for f in "$build"/fuzz/*.log; do
    [ -f "$f" ] || continue
    name="$(basename "$f" .log)"
    if [ "$#" -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$f" | tail -n 1)"
    log "fuzz $name: ${runs:-?} executions"
done
exit "$rc"
