#!/usr/bin/env bash
# Make sure a Docker engine answers, starting dockerd ourselves if needed.
#
#   scripts/engine.sh start   ensure `docker info` answers. Prints "started" on
#                             stdout if this call started dockerd, "running" if
#                             an engine already answered.
#   scripts/engine.sh stop    stop dockerd only if engine.sh started it.
#   scripts/engine.sh status  exit 0 if an engine answers.
#
# State (log, pid file) lives in ${RUSTYOLO_STATE:-/var/tmp/rustyolo-ci}.
# Extra dockerd arguments may be given in RUSTYOLO_DOCKERD_ARGS (split on
# whitespace), e.g. to run a second engine on another socket for testing.
# Beware: a second engine started with `--bridge none` deletes the host's
# docker0 bridge, breaking the first engine's default network.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

pidfile="$RUSTYOLO_STATE/dockerd.pid"
logfile="$RUSTYOLO_STATE/dockerd.log"
wait_s="${RUSTYOLO_ENGINE_WAIT:-60}"

answers() { timeout 15 "$DOCKER" info >/dev/null 2>&1; }

# Is the pid in our pid file a live dockerd?
our_pid() {
    local pid
    [ -s "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = dockerd ] || return 1
    printf '%s\n' "$pid"
}

start() {
    if answers; then
        log "engine: a Docker engine already answers"
        echo running
        return 0
    fi
    local dockerd extra=()
    dockerd="$(command -v dockerd || echo /usr/sbin/dockerd)"
    [ -x "$dockerd" ] || die "engine: dockerd not found (is docker.io installed? run scripts/deps.sh)"
    read -r -a extra <<<"${RUSTYOLO_DOCKERD_ARGS:-}"
    mkdir -p "$RUSTYOLO_STATE"
    rm -f "$pidfile"
    log "engine: starting dockerd (log: $logfile)"
    printf '\n==== engine.sh start %s ====\n' "$(date -Is)" >>"$logfile"
    # Own session, so it outlives this script and the caller's process group.
    # dockerd writes its own pid to $pidfile: that file is our "we started it".
    setsid "$dockerd" --pidfile "$pidfile" "${extra[@]}" >>"$logfile" 2>&1 </dev/null &
    local bgpid=$! i
    for ((i = 0; i < wait_s; i++)); do
        if answers; then
            log "engine: dockerd answers after ${i}s (pid $(cat "$pidfile" 2>/dev/null || echo "$bgpid"))"
            echo started
            return 0
        fi
        kill -0 "$bgpid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$bgpid" 2>/dev/null; then
        log "engine: dockerd did not answer within ${wait_s}s; stopping it"
        kill -TERM "$bgpid" 2>/dev/null || true
    else
        log "engine: dockerd exited"
    fi
    rm -f "$pidfile"
    log "engine: last lines of $logfile:"
    tail -n 30 "$logfile" >&2 || true
    die "engine: could not start a Docker engine"
}

stop() {
    local pid i
    if ! pid="$(our_pid)"; then
        log "engine: no dockerd started by engine.sh is running; leaving any engine alone"
        rm -f "$pidfile"
        return 0
    fi
    log "engine: stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "engine: dockerd still running after 30s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) answers ;;
    *) die "usage: $0 start|stop|status" ;;
esac
