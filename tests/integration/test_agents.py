"""The eight agents, each from its pinned npm version (agents/pins.txt), in the full sandbox:

- `rustyolo NAME -- --version` prints the pinned version (the agent starts behind the firewall,
  under seccomp, without privileges);
- the drift scan (scripts/agent_drift.py) finds no host under the vendor's domains in what the
  image installed that the manifest neither allows nor declines, each with its reason. Its twin:
  without the allow entry platform.claude.com (Claude Code's OAuth token endpoint since 2.1), the
  scan fails and names exactly that host, as it did before the manifest was fixed;
- `rustyolo plugins` lists every agent with its version and the reasons of its egress entries."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import agent_drift  # noqa: E402

PINS = agent_drift.read_pins()
AGENTS = sorted(PINS)


@pytest.fixture(scope="session")
def manifests(rustyolo):
    return agent_drift.manifests(rustyolo.binary)


@pytest.fixture(scope="session")
def scans(image, manifests):
    """One scan per agent, shared by the tests that look at it."""
    cache = {}

    def scan(agent):
        if agent not in cache:
            cache[agent] = agent_drift.scan_agent(image, agent, manifests[agent])
        return cache[agent]
    return scan


def auth_home_for(agent_manifest, parent):
    """An --auth-home whose state folders of the agent belong to the agent's ids (the suite runs
    rustyolo as root, whose own new folders the agent, running as 1000, could not write)."""
    auth = parent / "auth"
    for persist in agent_manifest["persist"]:
        folder = auth / persist["name"]
        folder.mkdir(parents=True)
        os.chown(folder, 1000, 1000)
    return auth


@pytest.mark.parametrize("agent", AGENTS)
def test_agent_prints_its_pinned_version_from_inside_the_full_sandbox(rustyolo, project, manifests, tmp_path, agent):
    package, version = PINS[agent]
    auth = auth_home_for(manifests[agent], tmp_path)
    run = rustyolo.run(["--auth-home", str(auth), agent, "--", "--version"], cwd=project, probes=False, timeout=180)
    assert run.rc == 0, run
    # (pi prints it on stderr)
    assert version in run.out + run.err, f"{agent} ({package}) did not print its pinned version {version}:{run}"


@pytest.mark.parametrize("agent", AGENTS)
def test_drift_scan_finds_no_host_the_manifest_does_not_account_for(scans, agent):
    found, allowed, declined, unknown = scans(agent)
    assert found, f"the scan of {agent} found no host at all under its vendor domains: is the package there?"
    assert not unknown, (f"{agent}: hosts neither allowed nor declined in its manifest: "
                         + ", ".join(f"{h} (in {where})" for h, where in unknown))


def test_drift_scan_twin_finds_platform_claude_com_without_its_entry(scans, manifests):
    found, *_ = scans("claude")
    assert "platform.claude.com" in found, "Claude Code's files no longer name platform.claude.com"
    stale = json.loads(json.dumps(manifests["claude"]))
    stale["egress"] = [e for e in stale["egress"] if e["entry"] != "platform.claude.com"]
    _, _, unknown = agent_drift.judge(found, stale)
    assert [h for h, _ in unknown] == ["platform.claude.com"], unknown


def test_drift_scan_fails_from_the_command_line_listing_the_new_host(image, rustyolo, manifests, tmp_path):
    stale = {"agents": [dict(manifests["claude"],
                             egress=[e for e in manifests["claude"]["egress"] if e["entry"] != "platform.claude.com"])]}
    path = tmp_path / "manifests.json"
    path.write_text(json.dumps(stale))
    done = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "agent_drift.py"), "--image", image,
                           "--agent", "claude", "--manifest-json", str(path)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 1, done
    assert "NEW       platform.claude.com" in done.stdout, done.stdout


def test_plugins_lists_every_agent_with_version_and_egress_reasons(rustyolo, project, manifests):
    run = rustyolo.run(["plugins"], cwd=project, probes=False)
    assert run.rc == 0, run
    for agent, (package, version) in PINS.items():
        assert f"  agent {agent} {version}: " in run.out, f"{agent} {version} not listed:{run}"
        for egress in manifests[agent]["egress"]:
            assert f"    egress  {egress['entry']}  ({egress['reason']})" in run.out, run
        assert manifests[agent]["egress"], f"{agent} has no egress entry"
        assert manifests[agent]["version"] == version
