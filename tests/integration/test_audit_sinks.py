"""The audit sinks in a real session: the file sink and the syslog sink together, with a real rsyslogd
started by the test on a socket of its own, and `rustyolo audit` reading what the file sink wrote,
also while the session runs. Rules, record contents and levels are in test_audit.py."""

import fcntl
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

SD = re.compile(r'^<(\d+)>1 (\S+) (\S+) rustyolo (\d+) (\S+) '
                r'\[rustyolo@32473 session="([^"]*)" verdict="([^"]*)" event="([^"]*)"\] (\{.*\})$')


class Rsyslogd:
    """rsyslogd -n with one imuxsock input on a socket in `base`, writing every message to a file with
    the RFC 5424 template (so the structured data is kept)."""

    def __init__(self, base: Path):
        self.base = base
        self.socket = base / "log.sock"
        self.out = base / "messages.log"
        work = base / "work"
        work.mkdir()
        conf = base / "rsyslog.conf"
        conf.write_text(
            f'global(workDirectory="{work}" maxMessageSize="64k")\n'
            'module(load="imuxsock" SysSock.Use="off")\n'
            f'input(type="imuxsock" Socket="{self.socket}" UseSpecialParser="off" ParseHostname="on" '
            'IgnoreTimestamp="off")\n'
            f'*.* action(type="omfile" file="{self.out}" template="RSYSLOG_SyslogProtocol23Format")\n')
        self.proc = subprocess.Popen(["/usr/sbin/rsyslogd", "-n", "-f", str(conf), "-i", str(base / "pid")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 10
        while not self.socket.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                pytest.fail(f"rsyslogd did not start: {self.proc.stdout.read() if self.proc.stdout else ''}")
            time.sleep(0.05)

    def lines(self, count: int, timeout: float = 10) -> list[str]:
        deadline = time.time() + timeout
        while True:
            text = self.out.read_text() if self.out.exists() else ""
            lines = text.splitlines()
            if len(lines) >= count or time.time() > deadline:
                return lines
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def rsyslogd(tmp_path):
    if not Path("/usr/sbin/rsyslogd").exists():
        pytest.fail("rsyslogd is missing: install Debian's rsyslog (scripts/deps.sh)")
    base = tmp_path / "syslog"
    base.mkdir()
    daemon = Rsyslogd(base)
    yield daemon
    daemon.stop()


def audit_files(state: Path) -> list[Path]:
    d = state / "rustyolo" / "audit"
    return sorted(d.glob("*.jsonl")) if d.exists() else []


def locked(path: Path) -> bool:
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True


def records_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_file_and_syslog_sinks_get_every_record_of_a_session(rustyolo, project, tmp_path, rsyslogd):
    state = tmp_path / "state"
    run = rustyolo.exec(["sh", "-c", "exit 3"], cwd=project, env={"XDG_STATE_HOME": str(state)},
                        opts=["--audit-sink", "file", "--audit-sink", "syslog",
                              "--audit-syslog-socket", str(rsyslogd.socket)])
    assert run.rc == 3, run
    (session,) = run.sessions.keys()
    (file,) = audit_files(state)
    records = records_of(file)
    assert records and records[-1]["event"] == "exit", records

    lines = rsyslogd.lines(len(records))
    assert len(lines) == len(records), (lines, records)
    for line, record in zip(lines, records):
        m = SD.match(line)
        assert m, line
        pri, timestamp, _host, _pid, msgid, sd_session, verdict, event, msg = m.groups()
        # facility auth (4): warning (4) for blocks, info (6) otherwise
        assert int(pri) == 4 * 8 + (4 if record["verdict"] == "block" else 6), line
        assert msgid == record["layer"] and sd_session == session == record["session"]
        assert (verdict, event) == (record["verdict"], record["event"])
        assert timestamp.startswith(record["time"][:19]), (timestamp, record["time"])
        assert json.loads(msg) == record  # the same record, whole, in both sinks

    # The summary names where both sinks put the records.
    assert str(file) in run.err and f"syslog ({rsyslogd.socket})" in run.err, run


def test_missing_syslog_socket_refuses_the_start(rustyolo, project, tmp_path):
    state = tmp_path / "state"
    missing = tmp_path / "no-daemon.sock"
    run = rustyolo.exec(["true"], cwd=project, env={"XDG_STATE_HOME": str(state)},
                        opts=["--audit-sink", "syslog", "--audit-syslog-socket", str(missing)])
    assert run.rc != 0, run
    assert str(missing) in run.err and "--audit-syslog-socket" in run.err, run
    starting = [c for c in run.docker_calls if c and c[0] in ("run", "create", "start")]
    assert not starting, f"a container was started although the syslog sink could not open:{run}"


def test_rustyolo_audit_lists_and_shows_a_real_session(rustyolo, project, tmp_path):
    state = tmp_path / "state"
    env = {"XDG_STATE_HOME": str(state)}
    run = rustyolo.exec(["sh", "-c", "exit 5"], cwd=project, env=env)
    assert run.rc == 5, run
    (session,) = run.sessions.keys()
    (file,) = audit_files(state)

    listing = rustyolo.run(["audit"], cwd=project, env=env, probes=False)
    assert listing.rc == 0, listing
    row = [line.split() for line in listing.out.splitlines() if session in line]
    assert row and row[0][1:] == [session, "exec", "5", "0"], listing

    shown = rustyolo.run(["audit", "show", session[:6], "--json"], cwd=project, env=env, probes=False)
    assert shown.rc == 0, shown
    assert [json.loads(line) for line in shown.out.splitlines()] == records_of(file)


def test_follow_shows_a_live_session_until_its_exit_record(rustyolo, project, tmp_path):
    state = tmp_path / "state"
    env = {"XDG_STATE_HOME": str(state)}
    proc = rustyolo.popen(["exec", "--", "sh", "-c", "sleep 4; exit 0"], cwd=project, env=env, probes=False)
    try:
        deadline = time.time() + 60
        while not (audit_files(state) and locked(audit_files(state)[0])):
            assert proc.poll() is None and time.time() < deadline, "the session holds no audit file"
            time.sleep(0.1)
        follow = rustyolo.run(["audit", "--follow", "--json"], cwd=project, env=env, probes=False, timeout=90)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    assert follow.rc == 0, follow
    followed = [json.loads(line) for line in follow.out.splitlines()]
    (file,) = audit_files(state)
    assert followed == records_of(file)
    assert followed[-1]["event"] == "exit"
