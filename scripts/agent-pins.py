#!/usr/bin/env python3
"""Bump the agents' npm pins (agents/pins.txt) and show every host an upgrade adds before it lands.

    scripts/agent-pins.py                 # show each agent's pinned and latest version
    scripts/agent-pins.py --bump [AGENT…] # rewrite the pins to the latest versions, rebuild the
                                          # plugins and the image, rerun the drift scan

After --bump, a failed drift scan lists each new host; add it to the agent's manifest
(agents/NAME/NAME.cc) as an egress entry or a declined host with its reason, rebuild, and run
scripts/agent_drift.py again. Nothing is committed: review `git diff agents/pins.txt`.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_drift  # noqa: E402

VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")


def latest_version(package):
    out = subprocess.run(["npm", "view", package, "version"], check=True, capture_output=True, text=True).stdout.strip()
    if not VERSION.match(out):
        raise SystemExit(f"npm view {package} version answered {out!r}, not a version")
    return out


def rewrite_pins(new_versions, path=agent_drift.PINS):
    """Rewrites the VERSION field of the agents in new_versions, keeping the rest of the file."""
    lines = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 3 and not line.lstrip().startswith("#") and fields[0] in new_versions:
                old = fields[2]
                line = line[: line.rindex(old)] + new_versions[fields[0]] + line[line.rindex(old) + len(old):]
            lines.append(line)
    with open(path, "w") as f:
        f.writelines(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agents", nargs="*", help="agents to look at (default: all in agents/pins.txt)")
    parser.add_argument("--bump", action="store_true", help="rewrite the pins, rebuild, rerun the drift scan")
    parser.add_argument("--build-dir", default=os.path.join(agent_drift.REPO, "build"))
    parser.add_argument("--image", default="rustyolo:agent-pins", help="image tag to build and scan")
    parser.add_argument("--base-image", default="debian:bookworm-slim")
    args = parser.parse_args()

    pins = agent_drift.read_pins()
    names = args.agents or list(pins)
    unknown = [n for n in names if n not in pins]
    if unknown:
        raise SystemExit(f"not in {agent_drift.PINS}: {', '.join(unknown)}; the agents are: {', '.join(pins)}")
    changes = {}
    for name in names:
        package, pinned = pins[name]
        latest = latest_version(package)
        print(f"{name:10} {package:34} pinned {pinned:12} latest {latest}")
        if latest != pinned:
            changes[name] = latest
    if not args.bump:
        return 0
    if not changes:
        print("every pin is the latest version")
        return 0
    rewrite_pins(changes)
    print(f"rewrote {agent_drift.PINS}: " + ", ".join(f"{n} {v}" for n, v in changes.items()))
    # The pins reach the plugins at configure time; the image installs what the plugins name.
    subprocess.run(["cmake", args.build_dir], check=True)
    subprocess.run(["cmake", "--build", args.build_dir, "-j2"], check=True)
    rustyolo = os.path.join(args.build_dir, "bin", "rustyolo")
    subprocess.run([rustyolo, "image", "build", "--base-image", args.base_image, "--tag", args.image], check=True)
    manifests = agent_drift.manifests(rustyolo)
    failed = False
    for name in changes:
        found, allowed, declined, new = agent_drift.scan_agent(args.image, name, manifests[name])
        print(f"{name} {changes[name]}: {len(found)} hosts, {len(allowed)} allowed, {len(declined)} declined, "
              f"{len(new)} new")
        for host, where in new:
            print(f"  NEW {host}  (named in {where})")
        failed = failed or bool(new)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
