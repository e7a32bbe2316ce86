#!/usr/bin/env bash
# Install rustyolo for a new user: Debian packages, a running Docker engine,
# a Release build installed under ${PREFIX:-/usr/local}, and the agent image.
# Idempotent: re-running only rebuilds what changed.
#
# The base image is debian:bookworm-slim if it is already present locally
# (e.g. after `docker pull debian:bookworm-slim`); otherwise one is built
# locally with debootstrap (scripts/base-image.sh). Set RUSTYOLO_BASE_IMAGE to
# use another. Nothing is pulled from a registry by this script.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
cd "$here/.."

prefix="${PREFIX:-/usr/local}"

bash "$here/deps.sh"
bash "$here/engine.sh" start >/dev/null # left running: rustyolo needs it
base="$(bash "$here/base-image.sh" | tail -n 1)"
[ -n "$base" ] || die "install: no base image"

log "install: building (Release) in build-release"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DRUSTYOLO_BUILD_TESTS=OFF
cmake --build build-release
as_root cmake --install build-release --prefix "$prefix"

log "install: building the agent image from $base"
"$prefix/bin/rustyolo" image build --base-image "$base"
log "install: done: $prefix/bin/rustyolo"
