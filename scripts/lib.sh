# Shared helpers; source this file, do not execute it.
# shellcheck shell=bash

RUSTYOLO_STATE="${RUSTYOLO_STATE:-/var/tmp/rustyolo-ci}"
export RUSTYOLO_STATE

# The Docker client: /usr/local/bin/docker (28.x) precedes /usr/bin/docker
# (20.10, from docker.io) on PATH on these machines. Both were checked against
# the 20.10 engine: the 28.x client negotiates API 1.41 down, and run, exec,
# create, import, network create (also --ipv6) and build all work (build uses
# the legacy builder, as no buildx plugin is installed, and prints a
# "DEPRECATED: The legacy builder" notice on stderr; harmless). So nothing is
# forced: we keep whatever `docker` is on PATH, fall back to /usr/bin/docker
# when there is none, and honour DOCKER if the caller sets it. These scripts
# call "$DOCKER", never `docker`.
DOCKER="${DOCKER:-$(command -v docker || echo /usr/bin/docker)}"
export DOCKER

log() { printf '[rustyolo %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Root of the repository (the parent of scripts/).
repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# sudo only when not root (root needs none; CI runs as root).
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
