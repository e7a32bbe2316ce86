#!/bin/sh
# Fetches one npm package's tarball from the npm registry, checks it against the integrity the
# Dockerfile pins, and unpacks it into a directory. Used by the image's Node.js stage only (no npm
# exists yet there).
#
#   fetch-npm-tarball.sh NAME VERSION INTEGRITY DIR
#
# NAME is an unscoped package name, INTEGRITY npm's "sha512-<base64>" (`npm view NAME@VERSION
# dist.integrity`), DIR the directory the package's files go to (its leading "package/" removed).
# $NPM_REGISTRY overrides the registry (default https://registry.npmjs.org).
set -eu
if [ "$#" -ne 4 ]; then
    echo "usage: fetch-npm-tarball.sh NAME VERSION INTEGRITY DIR" >&2
    exit 2
fi
name=$1 version=$2 integrity=$3 dir=$4
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
case "$integrity" in
sha512-*) ;;
*)
    echo "fetch-npm-tarball: the integrity of $name@$version is \"$integrity\", not npm's sha512-<base64>;" \
        "take it from \`npm view $name@$version dist.integrity\`" >&2
    exit 1
    ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
url="$registry/$name/-/$name-$version.tgz"
curl --fail --silent --show-error --location --retry 3 --output "$tmp/package.tgz" "$url"
want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
got=$(sha512sum "$tmp/package.tgz" | cut -d ' ' -f 1)
if [ "$want" != "$got" ]; then
    echo "fetch-npm-tarball: $url does not match the pinned integrity $integrity (sha512 $got);" \
        "if the version was changed on purpose, pin its integrity too" >&2
    exit 1
fi
mkdir -p "$dir"
tar -xzf "$tmp/package.tgz" -C "$dir" --strip-components=1 --no-same-owner --no-same-permissions
