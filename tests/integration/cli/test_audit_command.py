"""`rustyolo audit` end to end on an audit directory: listing, showing, following the live session,
and refusing what it must not trust. The files are written here in the file sink's format (one JSON
record per line, named <start>-<session>.jsonl, locked with flock while live); no container runs."""
import fcntl
import json
import os
import subprocess

import pytest

RUSTYOLO = os.environ.get("RUSTYOLO_BIN")


@pytest.fixture
def ctx(tmp_path):
    if not RUSTYOLO:
        pytest.fail("RUSTYOLO_BIN is not set: run through scripts/test.sh")
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    state = home / ".local/state"
    audit = state / "rustyolo/audit"
    audit.mkdir(parents=True, mode=0o700)
    os.chmod(audit, 0o700)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_STATE_HOME": str(state), "XDG_RUNTIME_DIR": ""}
    return {"env": env, "project": project, "audit": audit, "home": home}


def rustyolo(ctx, *args, timeout=30):
    return subprocess.run([RUSTYOLO, *args], cwd=ctx["project"], env=ctx["env"], capture_output=True,
                          text=True, timeout=timeout)


def rec(session, seq, layer, verdict, event, details, second=0):
    return {"schema": 1, "time": f"2026-01-02T03:04:{second:02d}.000Z", "session": session, "seq": seq,
            "layer": layer, "verdict": verdict, "event": event, "details": details}


def start(session, agent="claude"):
    return rec(session, 1, "lifecycle", "info", "start", {"agent": agent, "level": "basic"})


def block(session, seq, destination="10.1.2.3", port=22):
    return rec(session, seq, "network", "block", "packet",
               {"protocol": "tcp", "destination": destination, "port": port, "name": None,
                "rule": "blocked_output"}, second=seq)


def exit_record(session, seq, code):
    return rec(session, seq, "lifecycle", "info", "exit",
               {"exit_code": code, "signal": None, "reason": "agent exited"}, second=seq)


def write_session(ctx, started, session, records, tail=""):
    path = ctx["audit"] / f"{started}-{session}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    os.chmod(path, 0o600)
    return path


def two_sessions(ctx):
    write_session(ctx, "2026-01-02T03-04-00.000Z", "aaaa11112222",
                  [start("aaaa11112222"), block("aaaa11112222", 2), block("aaaa11112222", 3),
                   exit_record("aaaa11112222", 4, 0)])
    write_session(ctx, "2026-01-03T03-04-00.000Z", "bbbb33334444",
                  [start("bbbb33334444", "codex"), exit_record("bbbb33334444", 2, 7)])


def test_list_shows_sessions_oldest_first_with_agent_exit_and_blocked(ctx):
    two_sessions(ctx)
    r = rustyolo(ctx, "audit")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["STARTED", "SESSION", "AGENT", "EXIT", "BLOCKED"]
    assert lines[1].split() == ["2026-01-02T03:04:00.000Z", "aaaa11112222", "claude", "0", "2"]
    assert lines[2].split() == ["2026-01-02T03:04:00.000Z", "bbbb33334444", "codex", "7", "0"]
    assert str(ctx["audit"]) in lines[3]


def test_list_with_no_records_says_so(ctx):
    r = rustyolo(ctx, "audit")
    assert r.returncode == 0, r.stderr
    assert "No audit records" in r.stdout


def test_show_by_prefix_and_latest(ctx):
    two_sessions(ctx)
    r = rustyolo(ctx, "audit", "show", "aaaa")
    assert r.returncode == 0, r.stderr
    assert "session aaaa11112222  agent claude" in r.stdout
    assert "block  network/packet  10.1.2.3:22/tcp" in r.stdout
    r = rustyolo(ctx, "audit", "show", "latest")
    assert r.returncode == 0, r.stderr
    assert "session bbbb33334444" in r.stdout


def test_show_json_prints_the_records(ctx):
    two_sessions(ctx)
    r = rustyolo(ctx, "audit", "show", "aaaa11112222", "--json")
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["seq"] for x in records] == [1, 2, 3, 4]
    assert records[1] == block("aaaa11112222", 2)


def test_unknown_or_ambiguous_session_is_a_usage_error(ctx):
    two_sessions(ctx)
    write_session(ctx, "2026-01-04T03-04-00.000Z", "aaaa99990000", [start("aaaa99990000")])
    r = rustyolo(ctx, "audit", "show", "aaaa")
    assert r.returncode == 2
    assert "matches 2 sessions" in r.stderr
    r = rustyolo(ctx, "audit", "show", "zzzz")
    assert r.returncode == 2
    assert "no recorded session \"zzzz\"" in r.stderr


def test_truncated_last_line_is_tolerated(ctx):
    write_session(ctx, "2026-01-02T03-04-00.000Z", "cccc", [start("cccc"), block("cccc", 2)],
                  tail=json.dumps(block("cccc", 3))[:25])
    r = rustyolo(ctx, "audit")
    assert r.returncode == 0, r.stderr
    assert "cccc" in r.stdout and "last line cut off" in r.stdout
    r = rustyolo(ctx, "audit", "show", "cccc")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("network/packet") == 1


def test_control_characters_from_the_container_are_escaped(ctx):
    evil = block("dddd", 2, destination="evil\x1b]0;owned\x07\x1b[2J.test")
    write_session(ctx, "2026-01-02T03-04-00.000Z", "dddd", [start("dddd\x1b[31m"), evil])
    r = rustyolo(ctx, "audit", "show", "dddd")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "evil\\x1b]0;owned\\x07\\x1b[2J.test" in r.stdout
    r = rustyolo(ctx, "audit")
    assert "\x1b" not in r.stdout


def test_unknown_schema_is_refused_with_a_clear_message(ctx):
    future = dict(start("eeee"), schema=2)
    write_session(ctx, "2026-01-02T03-04-00.000Z", "eeee", [future])
    r = rustyolo(ctx, "audit", "show", "eeee")
    assert r.returncode == 1
    assert "audit record schema 2; this rustyolo reads schema 1" in r.stderr
    # Positive control: the same file with schema 1 is shown.
    write_session(ctx, "2026-01-02T03-04-00.000Z", "eeee", [start("eeee")])
    assert rustyolo(ctx, "audit", "show", "eeee").returncode == 0


def test_unsafe_directory_is_refused(ctx):
    two_sessions(ctx)
    os.chmod(ctx["audit"], 0o777)
    r = rustyolo(ctx, "audit")
    assert r.returncode == 1
    assert "writable by group or others" in r.stderr
    os.chmod(ctx["audit"], 0o700)
    link = ctx["home"] / "link"
    link.symlink_to(ctx["audit"])
    r = rustyolo(ctx, "--audit-dir", str(link), "audit")
    assert r.returncode == 1
    assert "is a symlink" in r.stderr
    assert rustyolo(ctx, "audit").returncode == 0


def test_audit_dir_option_and_config_are_used(ctx, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir(mode=0o700)
    write = lambda: (other / "2026-01-02T03-04-00.000Z-ffff.jsonl").write_text(json.dumps(start("ffff")) + "\n")
    write()
    assert "ffff" in rustyolo(ctx, "--audit-dir", str(other), "audit").stdout
    assert "ffff" not in rustyolo(ctx, "audit").stdout
    cfg = ctx["home"] / ".config/rustyolo/config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'[security]\naudit_dir = "{other}"\n')
    assert "ffff" in rustyolo(ctx, "audit").stdout


def test_follow_without_a_live_session_is_an_error(ctx):
    two_sessions(ctx)
    r = rustyolo(ctx, "audit", "--follow")
    assert r.returncode == 1
    assert "no live session" in r.stderr


def test_follow_prints_records_as_they_are_appended_until_the_exit_record(ctx):
    two_sessions(ctx)
    path = write_session(ctx, "2026-01-05T03-04-00.000Z", "live0001", [start("live0001")])
    with open(path, "a") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)
        listing = rustyolo(ctx, "audit")
        assert "live0001" in listing.stdout and " live " in listing.stdout
        proc = subprocess.Popen([RUSTYOLO, "audit", "--follow", "--json"], cwd=ctx["project"], env=ctx["env"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = proc.stdout.readline()
            assert json.loads(first)["event"] == "start"
            writer.write(json.dumps(block("live0001", 2)) + "\n")
            writer.flush()
            second = proc.stdout.readline()
            assert json.loads(second)["seq"] == 2
            assert proc.poll() is None  # still following
            writer.write(json.dumps(exit_record("live0001", 3, 0)) + "\n")
            writer.flush()
            rest, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err
        assert json.loads(rest.splitlines()[0])["event"] == "exit"


def test_follow_stops_when_the_lock_is_released(ctx):
    path = write_session(ctx, "2026-01-05T03-04-00.000Z", "live0002", [start("live0002")])
    writer = open(path, "a")
    fcntl.flock(writer, fcntl.LOCK_EX)
    proc = subprocess.Popen([RUSTYOLO, "audit", "show", "live0002", "--follow"], cwd=ctx["project"],
                            env=ctx["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "lifecycle/start" in proc.stdout.readline()
        writer.write(json.dumps(block("live0002", 2)) + "\n")
        writer.close()  # the session is gone without an exit record
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "network/packet" in out
    assert "ended without an exit record" in err


def test_bad_sink_names_are_refused_naming_the_source(ctx):
    r = rustyolo(ctx, "--audit-sink", "Bad!", "audit")
    assert r.returncode == 2
    assert "--audit-sink: audit sink \"Bad!\"" in r.stderr
    env = dict(ctx["env"], RUSTYOLO_AUDIT_SINKS="file ../x")
    r = subprocess.run([RUSTYOLO, "audit"], cwd=ctx["project"], env=env, capture_output=True, text=True)
    assert r.returncode == 2
    assert "RUSTYOLO_AUDIT_SINKS: audit sink \"../x\"" in r.stderr
    assert rustyolo(ctx, "--audit-sink", "audit-syslog", "--audit-sink", "file", "audit").returncode == 0


def test_untrusted_project_may_add_a_sink_but_not_drop_or_move_one(ctx):
    project_cfg = ctx["project"] / ".rustyolo.toml"
    project_cfg.write_text('[security]\naudit_sinks = "file syslog"\n')
    assert rustyolo(ctx, "audit").returncode == 0
    project_cfg.write_text('[security]\naudit_sinks = "syslog"\n')
    r = rustyolo(ctx, "audit")
    assert r.returncode == 2
    assert "drops the audit sink \"file\"" in r.stderr
    project_cfg.write_text('[security]\naudit_dir = "/tmp/elsewhere"\n')
    r = rustyolo(ctx, "audit")
    assert r.returncode == 2
    assert "audit_dir" in r.stderr
    project_cfg.write_text('[security]\naudit_syslog_socket = "/tmp/fake.sock"\n')
    r = rustyolo(ctx, "audit")
    assert r.returncode == 2
    assert "audit_syslog_socket" in r.stderr
