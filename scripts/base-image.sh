#!/usr/bin/env bash
# Print (last line of stdout) the base image to build rustyolo's image from.
#
#   1. $RUSTYOLO_BASE_IMAGE, if set;
#   2. debian:bookworm-slim, if it exists locally;
#   3. rustyolo-base:bookworm, built once with debootstrap from the Debian
#      mirror this machine's apt uses (no image registry is needed or tried).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

tag="rustyolo-base:bookworm"
suite="bookworm"

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# First URI of the apt source that carries suite $1 (deb822 or one-line form).
mirror_for() {
    local want="$1" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # Stanzas are separated by blank lines; print the URI of one whose
        # Suites: field lists $want as a whole word.
        awk -v want="$want" '
            function flush() { if (hit && uri != "" && !done) { print uri; done = 1 } hit = 0; uri = "" }
            /^[[:space:]]*$/ { flush(); next }
            tolower($1) == "uris:" { uri = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == want) hit = 1 }
            END { flush() }
        ' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        # deb [options] URI SUITE COMPONENTS...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
            awk -v want="$want" '$1 == "deb" && $3 == want { print $2; exit }'
    done
}

if [ -n "${RUSTYOLO_BASE_IMAGE:-}" ]; then
    echo "$RUSTYOLO_BASE_IMAGE"
    exit 0
fi
if have_image debian:bookworm-slim; then
    log "base-image: using local debian:bookworm-slim"
    echo debian:bookworm-slim
    exit 0
fi
if have_image "$tag"; then
    log "base-image: using existing $tag"
    echo "$tag"
    exit 0
fi

mirror="$(mirror_for "$suite" | head -n 1)"
[ -n "$mirror" ] || die "base-image: no apt source for '$suite' in /etc/apt/sources.list{,.d/}"
security="$(mirror_for "$suite-security" | head -n 1)"
command -v debootstrap >/dev/null || die "base-image: debootstrap missing (run scripts/deps.sh)"

mkdir -p "$RUSTYOLO_STATE"
root="$(mktemp -d "$RUSTYOLO_STATE/debootstrap.XXXXXX")"
cleanup() {
    # debootstrap mounts proc/sys inside the target; never rm through a mount.
    grep -o " $root/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT

dblog="$RUSTYOLO_STATE/debootstrap.log"
log "base-image: debootstrap $suite from $mirror (1-2 min, log: $dblog)"
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$dblog" 2>&1; then
    tail -n 30 "$dblog" >&2
    die "base-image: debootstrap failed"
fi

# Apt inside the image uses the same mirror (debootstrap writes only the main suite).
{
    echo "deb $mirror $suite main"
    echo "deb $mirror $suite-updates main"
    if [ -n "$security" ]; then echo "deb $security $suite-security main"; fi
} >"$root/etc/apt/sources.list"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

log "base-image: importing as $tag"
tar -C "$root" --numeric-owner -c . |
    "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --change 'LABEL org.rustyolo.base=debootstrap' \
        - "$tag" >/dev/null
have_image "$tag" || die "base-image: import of $tag failed"
echo "$tag"
