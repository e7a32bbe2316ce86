#!/usr/bin/env python3
"""Drift scan: does an agent's manifest still account for every host its installed files name?

Reads what the image installed for an agent (its npm package folder, with the platform packages and
dependencies under it: JavaScript bundles and native executables alike, read as bytes the way
`strings` does) and collects every host name under the vendor's domains (the manifest's
`vendor_domains`). Each must be allowed (an `egress` entry) or declined (a `decline` entry, exact or
`*.suffix`), each with its reason. The scan fails listing every host that is neither, with a file
that names it.

    scripts/agent_drift.py --image rustyolo:latest --agent claude [--rustyolo build/bin/rustyolo]

The manifest comes from `rustyolo plugins --json`; the package from agents/pins.txt; the folder
where the image installed it from installed_package_dir() (the one place that knows the layout).
E-mail addresses (user@host) are not hosts and are skipped.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PINS = os.path.join(REPO, "agents", "pins.txt")


def read_pins(path=PINS):
    """{agent: (package, version)} from agents/pins.txt."""
    pins = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) != 3:
                raise SystemExit(f"{path}:{number}: \"{line}\" is not \"NAME PACKAGE VERSION\"")
            pins[fields[0]] = (fields[1], fields[2])
    return pins


def manifests(rustyolo):
    """{agent: manifest} from `rustyolo plugins --json`."""
    out = subprocess.run([rustyolo, "plugins", "--json"], check=True, capture_output=True, text=True).stdout
    return {a["agent"]: a for a in json.loads(out)["agents"]}


def installed_package_dir(agent, package):
    """The folder of the image where `agent`'s npm package `package` is installed: each agent has
    its own npm prefix, /opt/rustyolo/agents/AGENT (entrypoint/install-agent.sh)."""
    return f"/opt/rustyolo/agents/{agent}/lib/node_modules/{package}"


def copy_out(image, path, dest, engine="docker"):
    """Copies `path` of `image` to the host folder `dest` (which must not exist)."""
    container = subprocess.run([engine, "create", image], check=True, capture_output=True, text=True).stdout.strip()
    try:
        result = subprocess.run([engine, "cp", container + ":" + path, dest], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{image} has no {path} ({result.stderr.strip()}): is the agent installed in the "
                             f"image? Build it with `rustyolo image build`")
    finally:
        subprocess.run([engine, "rm", "-f", container], check=False, capture_output=True)


def host_pattern(vendor_domains):
    suffixes = b"|".join(re.escape(d.encode()) for d in sorted(vendor_domains, key=len, reverse=True))
    # Labels before one of the vendor's domains; not preceded by '@' (e-mail) or a name character,
    # not followed by a name character or by '.' and more of a name.
    return re.compile(rb"(?<![@A-Za-z0-9_.-])((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*(?:" + suffixes +
                      rb"))(?![A-Za-z0-9_-]|\.[A-Za-z0-9])", re.IGNORECASE)


NAME_BYTES = {bytes([c]) for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-@"}


def hosts_in(data, vendor_domains, pattern):
    """The hosts under vendor_domains that `data` names. The pattern runs only around each place
    where a vendor domain occurs (found with a plain search), since native executables are large."""
    hosts = set()
    lowered = data.lower()
    for domain in vendor_domains:
        needle = domain.lower().encode()
        at = lowered.find(needle)
        while at != -1:
            # A host name is at most 253 bytes: its start lies within that distance before the domain.
            # The window starts where the run of name characters before it starts, as the whole
            # file's scan would see it.
            start = max(0, at - 260)
            while start > 0 and at - start < 65536 and data[start - 1:start] in NAME_BYTES:
                start -= 1
            end = at + len(needle)
            window = data[start:end + 2]
            for match in pattern.finditer(window):
                if start + match.end(1) == end:
                    hosts.add(match.group(1).decode().lower())
            at = lowered.find(needle, at + 1)
    return hosts


def scan_dir(root, vendor_domains):
    """{host: first file (relative to root) that names it} for every host under vendor_domains."""
    pattern = host_pattern(vendor_domains)
    found = {}
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            for host in hosts_in(data, vendor_domains, pattern):
                found.setdefault(host, os.path.relpath(path, root))
    return found


def entry_host(entry):
    """The host part of an egress entry ("name", "name:port", "*.suffix"); None for a CIDR."""
    if "/" in entry:
        return None
    if entry.count(":") == 1:
        entry = entry.split(":")[0]
    return entry.lower().rstrip(".")


def matches(host, pattern):
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def judge(found, manifest):
    """(allowed, declined, unknown): each a sorted list of (host, reason or first file)."""
    allowed, declined, unknown = [], [], []
    egress = [(entry_host(e["entry"]), e["reason"]) for e in manifest["egress"]]
    for host in sorted(found):
        allow = next((r for h, r in egress if h and matches(host, h)), None)
        decline = next((d["reason"] for d in manifest["decline"] if matches(host, d["host"])), None)
        if allow is not None:
            allowed.append((host, allow))
        elif decline is not None:
            declined.append((host, decline))
        else:
            unknown.append((host, found[host]))
    return allowed, declined, unknown


def scan_agent(image, agent, manifest, pins=None, engine="docker"):
    """Scans the image's install of `agent` against `manifest`: (found, allowed, declined, unknown)."""
    pins = pins or read_pins()
    if agent not in pins:
        raise SystemExit(f"agent {agent!r} has no line in {PINS}")
    if not manifest.get("vendor_domains"):
        raise SystemExit(f"the manifest of agent {agent!r} names no vendor_domains: nothing to watch")
    package, _ = pins[agent]
    work = tempfile.mkdtemp(prefix="rustyolo-drift-")
    try:
        copy_out(image, installed_package_dir(agent, package), os.path.join(work, "package"), engine)
        found = scan_dir(os.path.join(work, "package"), manifest["vendor_domains"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return (found, *judge(found, manifest))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True, help="the sandbox image to scan")
    parser.add_argument("--agent", required=True, action="append", help="agent name (repeatable)")
    parser.add_argument("--rustyolo", default=os.environ.get("RUSTYOLO_BIN", os.path.join(REPO, "build/bin/rustyolo")),
                        help="the rustyolo CLI whose agent plugins hold the manifests")
    parser.add_argument("--manifest-json", help="read the manifests from this file (rustyolo plugins --json) instead")
    parser.add_argument("--engine", default="docker")
    parser.add_argument("--verbose", action="store_true", help="also list the allowed and declined hosts")
    args = parser.parse_args()
    if args.manifest_json:
        with open(args.manifest_json) as f:
            all_manifests = {a["agent"]: a for a in json.load(f)["agents"]}
    else:
        all_manifests = manifests(args.rustyolo)
    failed = False
    for agent in args.agent:
        if agent not in all_manifests:
            raise SystemExit(f"no loaded agent plugin serves {agent!r}; the agents are: {', '.join(sorted(all_manifests))}")
        found, allowed, declined, unknown = scan_agent(args.image, agent, all_manifests[agent], engine=args.engine)
        print(f"{agent}: {len(found)} hosts under {', '.join(all_manifests[agent]['vendor_domains'])}: "
              f"{len(allowed)} allowed, {len(declined)} declined, {len(unknown)} neither")
        if args.verbose:
            for host, reason in allowed:
                print(f"  allowed   {host}  ({reason})")
            for host, reason in declined:
                print(f"  declined  {host}  ({reason})")
        for host, where in unknown:
            print(f"  NEW       {host}  (named in {where}): neither allowed nor declined in the manifest")
        failed = failed or bool(unknown)
    if failed:
        print("drift: add each NEW host to the agent's manifest (agents/NAME/NAME.cc) as an egress entry or a "
              "declined host, each with its reason", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
