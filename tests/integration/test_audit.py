"""The session's audit records (docs/audit-schema.md), end to end: the real CLI, the real engine,
the supervisor's records over the session socket, the built-in file sink. Network and DNS records
are in network/test_audit_cli.py and the network suites; syscall records in test_syscall_audit.py.

Each run gets its own XDG_STATE_HOME, so the audit directory holds exactly its session's file."""

import json
from pathlib import Path


def audited(rustyolo, project, tmp_path, command, opts=(), **kw):
    """Runs `rustyolo [opts] exec -- command` with a private state dir; returns (run, records)."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    run = rustyolo.exec(command, cwd=project, opts=list(opts), env={"XDG_STATE_HOME": str(state)}, **kw)
    return run, read_records(state)


def read_records(state: Path) -> list[dict]:
    files = sorted((state / "rustyolo" / "audit").glob("*.jsonl")) if (state / "rustyolo" / "audit").exists() else []
    assert len(files) <= 1, f"one session, several audit files: {files}"
    if not files:
        return []
    return [json.loads(line) for line in files[0].read_text().splitlines()]


def events(records, layer, event=None):
    return [r for r in records if r["layer"] == layer and (event is None or r["event"] == event)]


def check_common(records, run):
    """Every record: schema 1, the run's session, seq 1..n in order."""
    (session,) = run.sessions.keys()
    assert records, run
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    for r in records:
        assert r["schema"] == 1 and r["session"] == session, r
        assert set(r) == {"schema", "time", "session", "seq", "layer", "verdict", "event", "details"}, r


def test_a_session_records_its_start_self_test_and_exit(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["sh", "-c", "exit 3"])
    assert run.rc == 3, run
    check_common(records, run)
    (start,) = events(records, "lifecycle", "start")
    assert start["details"]["agent"] == "exec" and start["seq"] == 1
    (test,) = events(records, "lifecycle", "self_test")
    assert test["details"]["result"] == "pass"
    (exit_,) = events(records, "lifecycle", "exit")
    assert exit_["details"]["exit_code"] == 3 and exit_["details"]["reason"] == "agent exited", exit_
    assert exit_["details"]["supervisor_cpu_ms"] >= 0
    assert exit_ is records[-1]
    # Nothing was blocked: no block records, and the summary says so.
    assert [r for r in records if r["verdict"] == "block"] == []
    assert "nothing was blocked" in run.err, run


def test_level_none_writes_nothing(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["/probes/forkbomb64"],
                           opts=["--audit-log", "none", "--pids-limit", "64"])
    assert run.rc == 0, run
    assert records == []
    assert not (tmp_path / "state" / "rustyolo" / "audit").exists() or not any(
        (tmp_path / "state" / "rustyolo" / "audit").iterdir())


def test_a_refused_mount_is_recorded_and_nothing_starts(rustyolo_noimage, project, tmp_path, test_home):
    ssh = test_home / ".ssh"
    ssh.mkdir(exist_ok=True)
    state = tmp_path / "state"
    run = rustyolo_noimage.run(["-v", f"{ssh}:/keys", "exec", "--", "true"], cwd=project, probes=False,
                               env={"XDG_STATE_HOME": str(state)})
    assert run.rc == 2, run
    assert run.sessions == {}, "nothing may start"
    records = read_records(state)
    (refused,) = events(records, "mount", "refused")
    assert refused["verdict"] == "block"
    assert refused["details"]["source"] == str(ssh) and refused["details"]["target"] == "/keys"
    assert refused["details"]["rule"], refused
    (exit_,) = events(records, "lifecycle", "exit")
    assert exit_["details"]["exit_code"] == 2 and exit_["details"]["reason"].startswith("start refused: ")
    assert "1 mount refused" in run.err, run
    # The reason first, then what the audit recorded.
    assert run.err.index("rustyolo: error: mount") < run.err.index("1 mount refused"), run.err


def test_twin_an_allowed_mount_is_not_recorded(rustyolo_noimage, project, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    state = tmp_path / "state"
    run = rustyolo_noimage.run(["-v", f"{data}:/data", "--dry-run", "exec", "--", "true"], cwd=project,
                               probes=False, env={"XDG_STATE_HOME": str(state)})
    assert run.rc == 0, run
    assert read_records(state) == []


def test_the_pids_limit_hit_is_recorded(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["/probes/forkbomb64"], opts=["--pids-limit", "64"])
    assert run.rc == 0, run
    hits = events(records, "resource", "pids_limit")
    assert hits, records
    assert all(h["verdict"] == "block" and h["details"]["limit"] == 64 for h in hits)
    # Counts are cumulative and each record says how many are new since the one before.
    assert sum(h["details"]["new"] for h in hits) == hits[-1]["details"]["count"] > 0
    assert "resource pids_limit" in run.err or "pids" in run.err, run


def test_twin_no_resource_record_below_the_limits(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["/probes/membomb64", "16"], opts=["--memory", "64m"])
    assert run.rc == 0, run
    assert events(records, "resource") == []


def test_an_oom_kill_is_recorded_with_the_exit(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["/probes/membomb64", "4096"], opts=["--memory", "64m"],
                           timeout=180)
    assert run.rc == 137, run
    (kill,) = events(records, "resource", "oom_kill")
    assert kill["details"]["count"] >= 1 and kill["details"]["limit_bytes"] == 64 * 1024 * 1024
    assert events(records, "lifecycle", "exit")[-1]["details"]["exit_code"] == 137


def test_the_agent_can_neither_forge_nor_reach_the_records(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["/probes/forge64"])
    assert run.rc == 0, run
    got = run.pairs()
    assert got["fake"].startswith("{"), run  # the forged line really went out on stdout
    assert got["connect"] in ("ENOENT", "ECONNREFUSED", "EACCES"), run
    assert got["sent"] == "-", run
    assert got["proc1fd"] in ("EACCES", "EPERM"), run
    check_common(records, run)
    assert [r for r in records if r["event"] == "forged_by_agent"] == []
    assert all(r["event"] != "transport" for r in records), "nothing reached the socket, so nothing was refused"


def test_twin_the_forging_probe_does_connect_where_a_socket_listens(rustyolo, project, tmp_path):
    """The probe's connect works when a socket is there to take it (so ENOENT above means the
    session socket was gone, not a broken probe)."""
    import socket
    import threading
    path = project / "listen.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    path.chmod(0o777)
    server.listen(1)
    got = []

    def accept():
        conn, _ = server.accept()
        got.append(conn.recv(4096))
        conn.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        run, records = audited(rustyolo, project, tmp_path, ["/probes/forge64", "/app/listen.sock"])
        t.join(10)
    finally:
        server.close()
    assert run.rc == 0, run
    assert run.pairs()["connect"] == "ok", run
    assert got and b"forged_by_agent" in got[0]
    assert [r for r in records if r["event"] == "forged_by_agent"] == []
