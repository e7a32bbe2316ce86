#!/bin/sh
# Installs one agent's npm packages into its own prefix, in the agent's stage of the image build:
#
#   install-agent.sh NAME PKG...
#
# The packages go to /opt/rustyolo/agents/NAME (lib/node_modules, bin), links to its programs to
# /opt/rustyolo/bin. Only /opt/rustyolo is copied from the stage into the image, so npm's cache
# and anything else the install leaves behind stay out of it. npm installs only the optional
# dependencies (native binaries) made for this platform (linux, x64, glibc) and no dev dependencies.
set -eu
if [ "$#" -lt 2 ]; then
    echo "usage: install-agent.sh NAME PKG..." >&2
    exit 2
fi
name=$1
shift
prefix=/opt/rustyolo/agents/$name
# npm trusts the system bundle, which includes the build's extra-ca.crt.
NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    npm install --global --prefix "$prefix" --omit=dev --no-fund --no-audit --no-update-notifier \
    --os=linux --cpu=x64 --libc=glibc "$@"
mkdir -p /opt/rustyolo/bin
for program in "$prefix"/bin/*; do
    [ -e "$program" ] || continue
    base=${program##*/}
    if [ -e "/opt/rustyolo/bin/$base" ]; then
        echo "install-agent: $name's program $base is already in /opt/rustyolo/bin" >&2
        exit 1
    fi
    ln -s "../agents/$name/bin/$base" "/opt/rustyolo/bin/$base"
done
npm cache clean --force
rm -rf /root/.npm /tmp/*
