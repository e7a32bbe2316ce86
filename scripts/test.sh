#!/usr/bin/env bash
# The one test command. Sets up what it needs (packages, Docker engine, base
# image), builds, then runs the suites in order. A failing suite does not stop
# later ones; the exit status is non-zero if any failed. The last line printed
# is "N passed, N failed", summing real test counts where the runner gives them.
#
#   scripts/test.sh                 all suites
#   scripts/test.sh unit sdk ...    only these (unit sdk fuzz image integration)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
cd "$here/.."

all_suites=(unit sdk fuzz image integration)
suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=("${all_suites[@]}")
for s in "${suites[@]}"; do
    case " ${all_suites[*]} " in *" $s "*) ;; *) die "unknown suite '$s' (have: ${all_suites[*]})" ;; esac
done
wants() { case " ${suites[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
needs_docker=false
for s in image integration; do wants "$s" && needs_docker=true; done

passed=0
failed=0
skipped=()
results=()
logs="$RUSTYOLO_STATE/test-logs"
mkdir -p "$logs"

finish() {
    cleanup # before the summary, so that the summary is the last thing printed
    printf '\n== summary ==\n'
    if [ "${#results[@]}" -gt 0 ]; then printf '  %s\n' "${results[@]}"; fi
    if [ "${#skipped[@]}" -gt 0 ]; then printf '  skipped (no such folder yet): %s\n' "${skipped[*]}"; fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

engine_started=false
cleanup() {
    if [ "$needs_docker" = true ] && "$DOCKER" info >/dev/null 2>&1; then
        "$DOCKER" ps -aq --filter label=org.rustyolo.test=1 | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
        "$DOCKER" network ls -q --filter label=org.rustyolo.test=1 | xargs -r "$DOCKER" network rm >/dev/null 2>&1 || true
    fi
    if [ "$engine_started" = true ]; then bash "$here/engine.sh" stop || true; fi
    engine_started=false
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- set-up ---
bash "$here/deps.sh"
# No skipping in silence: without an engine or a base image, each Docker suite
# counts as failed (the others still run).
docker_ok=false
if [ "$needs_docker" = true ]; then
    if engine_state="$(bash "$here/engine.sh" start)"; then
        [ "$engine_state" != started ] || engine_started=true
        if BASE="$(bash "$here/base-image.sh" | tail -n 1)" && [ -n "$BASE" ]; then
            log "base image: $BASE"
            export RUSTYOLO_BASE_IMAGE="$BASE"
            docker_ok=true
        fi
    fi
fi

log "configure + build"
if ! { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DRUSTYOLO_WERROR=ON -DRUSTYOLO_BUILD_TESTS=ON && cmake --build build; }; then
    results+=("build: FAILED")
    failed=$((failed + 1))
    finish
    exit 1
fi
export RUSTYOLO_BIN="$PWD/build/bin/rustyolo"

# count SUITE RC LOG KIND: add the suite's test counts to the totals.
count() {
    local suite="$1" rc="$2" logf="$3" kind="$4" line="" p=0 f=0 n=0
    if [ "$kind" = ctest ]; then
        # "100% tests passed, 0 tests failed out of 12"
        line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$logf" | tail -n 1 || true)"
        if [ -n "$line" ]; then
            f="$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")"
            n="$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")"
            p=$((n - f))
        fi
    elif [ "$kind" = pytest ]; then
        # "3 passed, 1 failed, 2 skipped in 4.20s" (also "error(s)")
        line="$(grep -E '^=*[[:space:]]*[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)' "$logf" | tail -n 1 || true)"
        # (grep finds nothing when there is no such count: that is 0, not an error)
        p="$({ grep -oE '[0-9]+ (passed|xpassed|xfailed)' <<<"$line" || true; } | awk '{ s += $1 } END { print s + 0 }')"
        f="$({ grep -oE '[0-9]+ (failed|errors?)' <<<"$line" || true; } | awk '{ s += $1 } END { print s + 0 }')"
    fi
    # No counts: the suite counts as one test. A failure the counts miss: one more.
    if [ -z "$line" ]; then
        if [ "$rc" -eq 0 ]; then p=1; else f=1; fi
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    results+=("$suite: $p passed, $f failed (exit $rc, log $logf)")
}

# run SUITE KIND CMD...: run one suite, tee its output to a log, count it.
run() {
    local suite="$1" kind="$2" logf="$logs/$1.log" rc=0
    shift 2
    printf '\n== suite: %s ==\n' "$suite"
    "$@" 2>&1 | tee "$logf" || rc=$?
    count "$suite" "$rc" "$logf" "$kind"
}

pytest_suite() {
    local suite="$1" dir="tests/$1"
    if [ ! -d "$dir" ]; then
        printf '\n== suite: %s: SKIPPED, %s does not exist yet ==\n' "$suite" "$dir"
        skipped+=("$suite")
        return 0
    fi
    # /usr/bin/python3: Debian's python3-pytest, not whatever python3 is first on PATH.
    run "$suite" pytest /usr/bin/python3 -m pytest -q -p no:cacheprovider "$dir"
}

for s in "${suites[@]}"; do
    case "$s" in image | integration)
        if [ "$docker_ok" != true ]; then
            printf '\n== suite: %s: FAILED, no Docker engine or base image (see above) ==\n' "$s"
            results+=("$s: FAILED (no Docker engine or base image)")
            failed=$((failed + 1))
            continue
        fi
    esac
    case "$s" in
        unit) run unit ctest ctest --test-dir build --output-on-failure --no-tests=error -j "$(nproc)" -L '^unit$' ;;
        sdk) run sdk ctest ctest --test-dir build --output-on-failure --no-tests=error -L '^sdk$' ;;
        # Its own clang build (build-fuzz/), then every fuzz target: seeds + 20 s, one test each.
        fuzz) run fuzz ctest bash "$here/fuzz.sh" ;;
        image) run image plain "$RUSTYOLO_BIN" image build --base-image "$BASE" ;;
        integration)
            # test_sdk_audit_sink.py loads the audit-socket example that the sdk suite builds against
            # the installed SDK (it runs before this one); without the sdk suite, build it here.
            if ! wants sdk; then
                ctest --test-dir build --output-on-failure -R '^sdk\.audit_socket_out_of_tree$' >"$logs/sdk-example.log" 2>&1 ||
                    log "building the audit-socket example failed (see $logs/sdk-example.log); its integration test will fail"
            fi
            pytest_suite "$s" ;;
    esac
done

finish
