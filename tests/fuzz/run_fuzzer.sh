#!/usr/bin/env bash
# run_fuzzer.sh FUZZER NAME SOURCE_DIR WORK_DIR: one fuzz target's test (ctest label fuzz).
#   1. regression: every file of SOURCE_DIR/corpus/NAME is run once;
#   2. fuzzing for RUSTYOLO_FUZZ_SECONDS (default 20) from that corpus; what it finds goes to
#      WORK_DIR/found/NAME (emptied first, so that every run takes the same bounded time; never the
#      source tree).
# Fails on any crash, leak, timeout, sanitizer report or broken property; the input that did it is
# saved under WORK_DIR/artifacts/NAME/. The last line is the run's summary with libFuzzer's counts.
set -euo pipefail
fuzzer="$1" name="$2" src="$3" work="$4"
seconds="${RUSTYOLO_FUZZ_SECONDS:-20}"
corpus="$src/corpus/$name"
found="$work/found/$name"
artifacts="$work/artifacts/$name"
rm -rf "$found"
mkdir -p "$found" "$artifacts"

mapfile -t seeds < <(find "$corpus" -type f 2>/dev/null | sort)
if [ "${#seeds[@]}" -eq 0 ]; then
    echo "fuzz $name: no seed corpus in $corpus" >&2
    exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$fuzz_dir/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
options=(-artifact_prefix="$artifacts/" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024)
if [ -f "$src/dict/$name.dict" ]; then options+=(-dict="$src/dict/$name.dict"); fi

echo "== fuzz $name: regression, ${#seeds[@]} seed inputs"
"$fuzzer" "${options[@]}" "${seeds[@]}"

echo "== fuzz $name: ${seconds} s from the seeds"
log="$work/$name.log"
rc=0
"$fuzzer" "${options[@]}" -max_total_time="$seconds" -print_final_stats=1 "$found" "$corpus" 2>&1 | tee "$log" || rc=$?
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)"
if [ "$rc" -ne 0 ]; then
    echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} executions; the input is in $artifacts/" >&2
    exit "$rc"
fi
echo "fuzz $name: ${runs:-?} executions in ${seconds} s (${coverage:-no coverage line}), ${#seeds[@]} seeds, 0 crashes"
