"""Attacks on the audit's exact counts (review of sec-audit) that need the real sandbox: the end of
the session. The claim under attack (docs/audit-schema.md, "Rate limit and exact counts"): records
+ suppressed counts + lost = what happened, whatever the agent does.

The attack: the agent exits and leaves fork-hopping processes behind (probe/hopper.c: never the
same pid for long, SIGTERM ignored). The supervisor's sweep (supervisor.cc: end_leftovers) lists
/proc, finds nothing it can still signal, and declares the agent gone; the session's final
accounting then runs while they still act — the packet audit reads the drop counters and stops its
NFLOG reader, the syscall reporter closes the notification fd — until PID 1 exits. What they do in
that window happened, was blocked, and is in no record, no suppressed count and no lost count.
Packets only ever go to the test network's own hosts (and are blocked before they leave)."""
import os
import subprocess

import pytest

import netlib
from test_audit_cli import accounted, records_of

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state"
    path.mkdir()
    return str(path)


@pytest.fixture(scope="module")
def hopper_dir(workdir):
    path = os.path.join(workdir, "hopper")
    os.makedirs(path, exist_ok=True)
    netlib.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", os.path.join(path, "hopper"),
                os.path.join(HERE, "probe", "hopper.c")])
    os.chmod(path, 0o755)
    return path


@pytest.fixture
def hopper_session(rustyolo_bin, testnet, hopper_dir, project_dir, state):
    """Runs the hopper as the agent (it exits after 1 s); returns (records, hop.log, hop.log.sys, stderr)."""
    image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
    log_name = f"hop-{netlib.token()}.log"
    argv = [rustyolo_bin, "--network", testnet.name, "--allow-lan", "--cpus", "1", "--memory", "1g",
            "--dns-servers", testnet.dns_ip, "--allow-domains", "allowed.test", "--audit-log", "basic",
            "--image", image, "-v", f"{hopper_dir}:/hop:ro",
            "exec", "--", "/hop/hopper", testnet.ip(27), "9999", "1000", "30", log_name]
    done = subprocess.run(argv, cwd=project_dir, env=dict(os.environ, XDG_STATE_HOME=state), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    logs = []
    for suffix in ("", ".sys"):
        path = os.path.join(project_dir, log_name + suffix)
        with open(path) as f:
            logs.append(f.read())
        os.unlink(path)
    return records_of(state), logs[0], logs[1], done.stderr


def test_blocked_packets_of_a_process_left_behind_are_all_accounted(hopper_session, testnet):
    """Every datagram a leftover got EPERM for is one byte in hop.log: the audit must account for
    each (record, suppressed count or lost), or say that it could not."""
    records, log, _, stderr = hopper_session
    refused = len(log)
    by = accounted(records, testnet.ip(27))
    audited = by["udp"] + by["other"]
    # Positive control: the leftovers did send, and the audit saw the flood.
    assert refused > 100 and by["udp"] > 0, (refused, by)
    # hop.log can be short by the datagram each hopper had in flight when it was killed (a few),
    # never long: more refused than accounted means blocked packets the audit never counted.
    assert refused <= audited <= refused + 16, (
        f"{refused} datagrams refused, {audited} accounted ({by}); "
        f"transport records: {[r for r in records if r['event'] == 'transport']}; stderr: {stderr[-1500:]}")


def test_denied_syscalls_of_a_process_left_behind_are_all_recorded(hopper_session):
    """Every mount(2) a leftover made was denied. The notifier answered 'p' ones (a record or a
    suppressed count is due for each); 'n' ones failed with ENOSYS because the supervisor had
    already closed the notification fd: denied, and in no record or count."""
    records, _, sys_log, stderr = hopper_session
    answered, unanswered = sys_log.count("p"), sys_log.count("n")
    recorded = sum(1 for r in records if r["layer"] == "syscall" and r["details"].get("syscall") == "mount")
    recorded += sum(n for r in records if r["event"] == "suppressed"
                    for key, n in r["details"]["counts"].get("block", {}).items() if key in ("syscall mount", "syscall *"))
    assert answered > 10 and recorded > 0, (answered, recorded)  # positive control
    assert unanswered == 0, (f"{unanswered} mount calls denied with ENOSYS after the reporter stopped, never recorded; "
                             f"{answered} answered, {recorded} recorded")
    assert answered <= recorded <= answered + 16, (answered, recorded)


def test_the_agent_cannot_hide_queries_under_the_self_tests_name(rustyolo_bin, testnet, probes_dir, project_dir,
                                                                 workdir, state):
    """The firewall plugin drops the DNS filter's report of any query for the self-test's name
    (net-nftables plugin.cc: `query.name == "rustyolo-self-test.invalid"`), whoever sent it. The
    packet audit tells its probes from the agent by a gid the agent cannot take; the DNS side only
    by a name the agent can send as often as it likes: refused queries that are in no record and no
    count. (The name is fixed and refused at the stub, so nothing leaves — but 'exact' is not.)"""
    from test_audit_cli import finish, open_cli
    box = open_cli(rustyolo_bin, testnet, probes_dir, project_dir, workdir, state)
    for qtype in ("A", "TXT", "AAAA"):
        assert box.cmd(f"dns 127.0.0.1 53 udp rustyolo-self-test.invalid {qtype}").startswith("ok rcode=3 ")
    # Positive control: another refused name is a record.
    assert box.cmd("dns 127.0.0.1 53 udp other-name.invalid A").startswith("ok rcode=3 ")
    finish(box)
    queries = [(r["details"]["name"], r["details"]["qtype"]) for r in records_of(state) if r["layer"] == "dns"]
    assert ("other-name.invalid", "A") in queries, queries
    assert sum(1 for name, _ in queries if name == "rustyolo-self-test.invalid") == 3, queries
