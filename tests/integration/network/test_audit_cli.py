"""Network audit records end to end through the real CLI (`rustyolo exec` with the sandbox image):
the firewall's packet log and the DNS filter, through the supervisor's rate-limited channel and the
session socket, into the file sink — including a flood whose totals must stay exact while the file
stays bounded. Packets only ever go to the test network's own hosts."""
import glob
import json
import os

import pytest

import netlib

FLOOD = 100_000


def open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state, level="basic"):
    image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
    argv = [rustyolo_bin, "--network", testnet.name, "--allow-lan", "--cpus", "1", "--memory", "1g",
            "--dns-servers", testnet.dns_ip, "--allow-domains", "allowed.test", "--audit-log", level,
            "--image", image, "-v", f"{probes_dir}:/probes:ro", "exec", "--", "/probes/netprobe", "-"]
    env = dict(os.environ, XDG_STATE_HOME=state)
    stderr = os.path.join(workdir, f"audit-{netlib.token()}.stderr")
    return netlib.Sandbox(argv, None, testnet.name, stderr, cwd=project_dir, env=env)


def records_of(state):
    files = glob.glob(os.path.join(state, "rustyolo", "audit", "*.jsonl"))
    assert len(files) == 1, files
    with open(files[0]) as f:
        lines = f.read().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state"
    path.mkdir()
    return str(path)


def finish(box):
    box.close()
    assert box.proc.returncode == 0, box.stderr()


def test_blocked_datagram_and_query_are_one_record_each(rustyolo_bin, testnet, probes_dir, project_dir, workdir,
                                                         state):
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state)
    name = f"{netlib.token()}.blocked.test"
    assert box.cmd("dns 127.0.0.1 53 udp allowed.test A").startswith("ok rcode=0 ")
    assert box.cmd(f"udp {testnet.ip(20)} 9999") == "err EPERM"
    assert box.cmd(f"dns 127.0.0.1 53 udp {name} A").startswith("ok rcode=5 ")
    # Positive control: an allowed connection arrives and makes no record.
    mark = testnet.events.mark()
    assert box.cmd(f"tcp {testnet.ip(20)} 443").startswith("ok hello")
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(20)}:443")
    finish(box)
    records = records_of(state)
    packets = [r for r in records if r["layer"] == "network" and r["event"] == "packet"]
    assert len(packets) == 1, packets
    d = packets[0]["details"]
    assert (d["destination"], d["port"], d["protocol"], d["direction"]) == (testnet.ip(20), 9999, "udp", "out"), d
    assert d["name"] == "allowed.test", d
    queries = [r for r in records if r["layer"] == "dns"]
    assert [(q["verdict"], q["details"]["name"], q["details"]["qtype"]) for q in queries] == [("block", name, "A")]
    assert records[-1]["event"] == "exit" and records[-1]["details"]["exit_code"] == 0
    assert "allowed.test:9999/udp" in box.stderr(), box.stderr()


def test_verbose_records_allowed_queries_too(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state):
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state, level="verbose")
    assert box.cmd("dns 127.0.0.1 53 udp allowed.test A").startswith("ok rcode=0 ")
    finish(box)
    allowed = [r for r in records_of(state) if r["layer"] == "dns" and r["verdict"] == "allow"]
    assert [r["details"]["name"] for r in allowed] == ["allowed.test"], allowed


def test_a_flood_leaves_exact_counts_and_a_bounded_file(rustyolo_bin, testnet, probes_dir, project_dir, workdir,
                                                        state):
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state)
    assert box.cmd(f"udpflood {testnet.ip(27)} 9999 {FLOOD}", timeout=120) == f"ok sent=0 refused={FLOOD}"
    finish(box)
    records = records_of(state)
    key = f"{testnet.ip(27)}:9999/udp"
    written = sum(1 for r in records if r["layer"] == "network" and r["event"] == "packet"
                  and r["details"]["destination"] == testnet.ip(27))
    suppressed = sum(r["details"]["counts"].get("block", {}).get(key, 0) for r in records
                     if r["event"] == "suppressed")
    lost = sum(r["details"]["count"] for r in records if r["layer"] == "network" and r["event"] == "lost")
    assert written + suppressed + lost == FLOOD, (written, suppressed, lost)
    assert written < 10_000 and len(records) < 12_000, (written, len(records))
    assert suppressed > 0, "the flood must have been rate limited"
    assert f"{FLOOD}" in box.stderr() or f"{FLOOD:,}" in box.stderr(), box.stderr()[-2000:]
