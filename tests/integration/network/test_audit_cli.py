"""Network audit records end to end through the real CLI (`rustyolo exec` with the sandbox image):
the firewall's packet log and the DNS filter, through the supervisor's rate-limited channel and the
session socket, into the file sink — including a flood whose totals must stay exact while the file
stays bounded. Packets only ever go to the test network's own hosts."""
import glob
import json
import os
import re
import time

import pytest

import netlib
from test_network_audit import drop_counter

FLOOD = 100_000


def open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state, level="basic", extra=()):
    image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
    argv = [rustyolo_bin, "--network", testnet.name, "--allow-lan", "--cpus", "1", "--memory", "1g",
            "--dns-servers", testnet.dns_ip, "--allow-domains", "allowed.test", "--audit-log", level, *extra,
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
    assert box.cmd(f"dns 127.0.0.1 53 udp {name} A").startswith("ok rcode=3 ")
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


# --- Distinct keys: the suppressed counts must arrive whatever the shape of the flood ---------------

PORTS = 6000  # per burst: far more distinct keys than one suppressed line could hold before


def still_counter(box):
    """The firewall's drop counter once it stands still (the kernel's own packets come at any time)."""
    for _ in range(50):
        counted = drop_counter(box)
        time.sleep(0.3)
        if drop_counter(box) == counted:
            return counted
    raise AssertionError("the firewall's drop counters never stood still for 0.3 s")


def accounted(records, address):
    """What the audit file accounts for blocked packets to `address`, by protocol: packet records,
    suppressed counts under the address's own keys (exact port or coarse ":*"), the catch-all
    per protocol; under "other" the session's lost packets, the records the supervisor could not
    count by key, and what lines the host refused stood for."""
    by = {"udp": 0, "tcp": 0, "other": 0}
    for r in records:
        d = r["details"]
        if r["layer"] == "network" and r["event"] == "packet" and d["destination"] == address:
            by[d["protocol"] if d["protocol"] in by else "other"] += 1
        elif r["layer"] == "network" and r["event"] == "lost":
            by["other"] += d["count"]
        elif r["event"] == "suppressed":
            for key, n in d["counts"].get("block", {}).items():
                protocol = key.rsplit("/", 1)[-1]
                if key.startswith(f"{address}:") or key.startswith("*:*/"):
                    by[protocol if protocol in by else "other"] += n
            by["other"] += d.get("lost", {}).get("block", 0)
        elif r["event"] == "transport":
            by["other"] += d.get("events", {}).get("block", 0)
    return by


def tcp_keys(records, address, port):
    """The records and suppressed keys a blocked connection to address:port can be found under."""
    found = []
    for r in records:
        d = r["details"]
        if r["layer"] == "network" and r["event"] == "packet" and (d["destination"], d["port"], d["protocol"]) == \
                (address, port, "tcp"):
            found.append(("record", 1))
        elif r["event"] == "suppressed":
            for key, n in d["counts"].get("block", {}).items():
                if key in (f"{address}:{port}/tcp", f"{address}:*/tcp", "*:*/tcp"):
                    found.append((key, n))
    return found


def test_a_flood_of_distinct_ports_is_counted_exactly_and_hides_no_connection(
        rustyolo_bin, testnet, probes_dir, project_dir, workdir, state):
    """The attack: datagrams to thousands of distinct ports of one host (each its own summary key),
    with one connection attempt in the middle. Before, one suppressed record held 1024 keys, was
    longer than the host accepts, and was refused: the counts of most of the flood — and the
    connection — were gone. Now records + suppressed counts + lost equal exactly what the
    firewall dropped, and the connection is found under its address and protocol."""
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state)
    target = testnet.ip(27)
    before = still_counter(box)
    assert box.cmd(f"udpports {target} 1 {PORTS}", timeout=120) == f"ok sent=0 refused={PORTS}"
    assert not box.cmd(f"tcp {target} 4444 300").startswith("ok"), "the hidden connection is blocked"
    assert box.cmd(f"udpports {target} 10001 {PORTS}", timeout=120) == f"ok sent=0 refused={PORTS}"
    dropped = still_counter(box) - before
    finish(box)
    records = records_of(state)
    assert all(len(json.dumps(r)) < 64 * 1024 for r in records)
    by = accounted(records, target)
    assert by["udp"] == 2 * PORTS, by
    assert by["udp"] + by["tcp"] + by["other"] == dropped, (by, dropped)
    # The hidden connection: its SYN(s) are in a record or a suppressed count keyed by its address.
    hidden = tcp_keys(records, target, 4444)
    assert by["tcp"] >= 1 and sum(n for _, n in hidden) == by["tcp"], hidden
    assert not any(r["event"] == "transport" for r in records), "no line may have been refused"
    assert sum(1 for r in records if r["event"] == "suppressed") > 1, "the counts need several lines"


def test_a_small_session_keeps_every_record_and_exact_counts(rustyolo_bin, testnet, probes_dir, project_dir,
                                                            workdir, state):
    """The twin: a few distinct ports and the same connection attempt, well under the rate limit —
    every blocked packet is its own detailed record, nothing is suppressed, and the totals are exact."""
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state)
    target = testnet.ip(27)
    before = still_counter(box)
    assert box.cmd(f"udpports {target} 1 20") == "ok sent=0 refused=20"
    assert not box.cmd(f"tcp {target} 4444 300").startswith("ok")
    dropped = still_counter(box) - before
    finish(box)
    records = records_of(state)
    by = accounted(records, target)
    assert by["udp"] == 20 and by["udp"] + by["tcp"] + by["other"] == dropped, (by, dropped)
    ports = sorted(r["details"]["port"] for r in records if r["layer"] == "network" and r["event"] == "packet"
                   and r["details"]["destination"] == target and r["details"]["protocol"] == "udp")
    assert ports == list(range(1, 21)), ports
    assert tcp_keys(records, target, 4444) and all(kind == "record" for kind, _ in tcp_keys(records, target, 4444))
    assert not any(r["event"] in ("suppressed", "transport", "capped", "dropped") for r in records)


def test_the_audit_file_cap_drops_detail_but_keeps_exit_and_exact_totals(rustyolo_bin, testnet, probes_dir,
                                                                          project_dir, workdir, state):
    """--audit-max-bytes: the file stays under the cap; where detail stops a "capped" record says
    so; the exit record is still written; the last record says how many records were dropped and
    carries the exact blocked total (the same as the summary on stderr)."""
    cap = 128 * 1024
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state, extra=("--audit-max-bytes", "128k"))
    target = testnet.ip(27)
    before = still_counter(box)
    assert box.cmd(f"udpports {target} 1 {PORTS}", timeout=120) == f"ok sent=0 refused={PORTS}"
    dropped_packets = still_counter(box) - before
    finish(box)
    files = glob.glob(os.path.join(state, "rustyolo", "audit", "*.jsonl"))
    assert os.path.getsize(files[0]) <= cap
    records = records_of(state)
    events = [r["event"] for r in records]
    assert events.count("capped") == 1 and "exit" in events, events[-5:]
    last = records[-1]
    assert last["event"] == "dropped" and last["details"]["records"] > 0, last
    d = last["details"]
    assert dropped_packets >= PORTS and d["blocked"] >= dropped_packets, (d["blocked"], dropped_packets)
    assert sum(d["counts"].values()) + d["other_count"] == d["blocked"]
    summary = sum(int(m) for m in re.findall(r"rustyolo: (\d+) \w", box.stderr()))
    assert summary == d["blocked"], box.stderr()[-2000:]
    # Every record the host stamped is either in the file or counted as dropped.
    written = [r["seq"] for r in records if r["event"] not in ("capped", "dropped")]
    assert len(written) + d["records"] == max(written[-1], d["last_seq"]), (len(written), d)
