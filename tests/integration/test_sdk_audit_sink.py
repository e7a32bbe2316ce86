"""A third-party audit sink in a real session: sdk/examples/audit-socket, built out of tree against
the INSTALLED SDK by the sdk suite (tests/sdk/audit_socket_out_of_tree.cmake), loaded with --plugin
and selected with --audit-sink socket next to the built-in file sink. A listener of the test's own on
a Unix socket must receive every record of the session — the start, a blocked event, the agent's
exit — as JSON lines identical to the lines the file sink wrote."""

import json
import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from test_audit import events, read_records


def audit_socket_plugin() -> Path:
    """The plugin the sdk suite built: AUDIT_SOCKET_PLUGIN, else beside RUSTYOLO_BIN's build tree."""
    given = os.environ.get("AUDIT_SOCKET_PLUGIN")
    if given:
        path = Path(given)
    else:
        build = Path(os.environ["RUSTYOLO_BIN"]).resolve().parent.parent
        path = build / "tests" / "sdk" / "audit-socket" / "build" / "audit-socket.so"
    if not path.is_file():
        pytest.fail(f"the audit-socket example plugin is missing at {path}: the sdk suite builds it against "
                    "the installed SDK; run `scripts/test.sh sdk` (or `ctest --test-dir build -R "
                    "sdk.audit_socket_out_of_tree`) first, or set AUDIT_SOCKET_PLUGIN to the built file")
    return path


class Listener:
    """Accepts one connection on a Unix stream socket and reads it to the end, in a thread."""

    def __init__(self, path: Path):
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(180)
        self.data = b""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.server.accept()
            with conn:
                conn.settimeout(60)
                while chunk := conn.recv(65536):
                    self.data += chunk
        except BaseException as e:  # reported by lines()
            self.error = e

    def lines(self) -> list[str]:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the sink did not close its connection after the session"
        assert self.error is None, f"the listener failed: {self.error!r}"
        text = self.data.decode()
        assert text.endswith("\n"), f"the last line is cut: {text[-200:]!r}"
        return text.splitlines()

    def close(self):
        self.server.close()


@pytest.fixture
def listener():
    # A short path of its own: a Unix socket address holds 107 bytes, pytest's tmp_path can be longer.
    base = Path(tempfile.mkdtemp(prefix="ry-audit-sock-", dir="/tmp"))
    server = Listener(base / "audit.sock")
    yield server
    server.close()
    (base / "audit.sock").unlink(missing_ok=True)
    base.rmdir()


def test_a_third_party_sink_receives_every_record_of_a_real_session(rustyolo, project, tmp_path, listener):
    plugin = audit_socket_plugin()
    state = tmp_path / "state"
    state.mkdir()
    # A name that is not allowed: the DNS filter refuses it, block records from the dns layer.
    run = rustyolo.exec(["sh", "-c", "getent hosts blocked.example.com; exit 3"], cwd=project,
                        opts=["--plugin", str(plugin), "--audit-sink", "file", "--audit-sink", "socket"],
                        env={"XDG_STATE_HOME": str(state), "RUSTYOLO_AUDIT_SOCKET": str(listener.path)})
    assert run.rc == 3, run
    (session,) = run.sessions.keys()

    lines = listener.lines()
    records = [json.loads(line) for line in lines]
    (start,) = events(records, "lifecycle", "start")
    assert start["seq"] == 1 and start["session"] == session, start
    (exit_,) = events(records, "lifecycle", "exit")
    assert exit_ is records[-1] and exit_["details"]["exit_code"] == 3, exit_
    blocks = [r for r in records if r["verdict"] == "block"]
    assert blocks and all(r["layer"] == "dns" and r["details"]["name"] == "blocked.example.com"
                          for r in blocks), records
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1)), "no record lost"

    # The very records the built-in file sink wrote, line for line and byte for byte.
    (file,) = sorted((state / "rustyolo" / "audit").glob("*.jsonl"))
    assert lines == file.read_text().splitlines()
    assert records == read_records(state)
    # The summary names where both sinks put the records.
    assert f"socket ({listener.path})" in run.err and str(file) in run.err, run
