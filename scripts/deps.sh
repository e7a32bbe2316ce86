#!/usr/bin/env bash
# Install the Debian packages listed in scripts/debian-packages.txt that are
# missing. Idempotent: does nothing (not even apt-get update) when all are there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/debian-packages.txt" | grep -v '^$')

missing=()
for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
    log "deps: all ${#wanted[@]} packages installed"
    exit 0
fi

log "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
as_root apt-get update -q || die "apt-get update failed"
for pkg in "${missing[@]}"; do
    apt-cache show "$pkg" >/dev/null 2>&1 || die "package not available from apt: $pkg"
done
as_root apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
for pkg in "${missing[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || die "package did not install: $pkg"
done
log "deps: done"
