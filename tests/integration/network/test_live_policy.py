"""`rustyolo allow` / `deny` change a running session's network policy (docs/control-protocol.md).

Real sessions (`rustyolo exec` with the sandbox image) on the hermetic test network; the agent is
the netprobe. Each session gets its own XDG_RUNTIME_DIR, so its control socket is the only one
`rustyolo allow` finds there (other suites may run sessions of the same user at the same time).
"Reached" and "never reached" are judged by the test hosts' own logs.
"""
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time

import pytest

import netlib

HOLD_PORT = 7000  # the test host keeps these connections open and echoes (listener.py --hold)


def ok(result):
    return result.startswith("ok")


def refused_or_nxdomain(result):
    # REFUSED today; NXDOMAIN once refused names are answered so (either way: no answer).
    return result.startswith("ok rcode=5 ") or result.startswith("ok rcode=3 ")


def answers(result):
    assert result.startswith("ok rcode=0"), result
    listed = result.split(" an=", 1)[1]
    return [] if listed == "-" else listed.split(",")


def stub(box, name):
    return box.cmd(f"dns 127.0.0.1 53 udp {name} A")


class LiveSession:
    """A running session and the environment its `rustyolo allow` must run in."""

    def __init__(self, rustyolo_bin, testnet, probes_dir, project_dir, workdir, allow):
        image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
        if not netlib.image_exists(image):
            pytest.skip(f"the sandbox image {image} does not exist: build it with `rustyolo image build` first")
        self.bin = rustyolo_bin
        self.runtime = tempfile.mkdtemp(prefix="rytest-live-", dir="/tmp")
        os.chmod(self.runtime, 0o700)
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime)
        argv = [rustyolo_bin, "--network", testnet.name, "--allow-lan", "--cpus", "1", "--memory", "1g",
                "--dns-servers", testnet.dns_ip, "--allow-domains", " ".join(allow), "--image", image,
                "-v", f"{probes_dir}:/probes:ro", "exec", "--", "/probes/netprobe", "-"]
        stderr = os.path.join(workdir, f"live-{netlib.token()}.stderr")
        self.box = netlib.Sandbox(argv, None, testnet.name, stderr, cwd=project_dir, env=self.env)
        self.session = netlib.docker("inspect", "-f", '{{index .Config.Labels "org.rustyolo.session"}}',
                                     self.box.name).stdout.strip()

    def rustyolo(self, *args, check=False, stdin=subprocess.DEVNULL, env=None):
        return subprocess.run([self.bin, *args], env=env or self.env, stdin=stdin, capture_output=True, text=True,
                              timeout=60, check=check)

    def control_socket(self):
        return os.path.join(self.runtime, "rustyolo", "control", self.session + ".sock")

    def close(self):
        self.box.close()
        subprocess.run(["rm", "-rf", self.runtime], check=False)


@pytest.fixture
def live(rustyolo_bin, testnet, probes_dir, project_dir, workdir):
    sessions = []

    def open_session(allow=("allowed.test",)):
        session = LiveSession(rustyolo_bin, testnet, probes_dir, project_dir, workdir, list(allow))
        sessions.append(session)
        return session

    yield open_session
    for session in sessions:
        session.close()


def wait_until(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_allow_opens_a_refused_name_in_the_running_session_and_deny_takes_it_back(live, testnet):
    s = live()
    box = s.box
    name = f"live{netlib.token()}.blocked.test"  # the test DNS answers it with ip(22)
    target = testnet.ip(22)
    pid_before = box.cmd("pid")
    dns_mark = testnet.dns_log.mark()
    # The agent loops on a refused name: no answer, no connection.
    for _ in range(3):
        assert refused_or_nxdomain(stub(box, name))
    assert name not in testnet.queries(dns_mark), "a refused name must not leave the sandbox"
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {target} {HOLD_PORT} 1000"))

    # From a second terminal: allow it. The only running session of this runtime dir is meant.
    started = time.time()
    r = s.rustyolo("allow", f"{name}:{HOLD_PORT}")
    assert r.returncode == 0, r.stderr
    assert name in r.stderr and s.session in r.stderr
    resolved = []
    assert wait_until(lambda: resolved.append(stub(box, name)) or resolved[-1].startswith("ok rcode=0"), 10), resolved
    assert answers(resolved[-1]) == [target]
    held = box.cmd(f"hold {target} {HOLD_PORT}")
    assert held == f"ok hello from hosts {target} {HOLD_PORT}", held
    assert time.time() - started < 10
    assert box.cmd("holdcheck") == "ok echo ping"
    assert testnet.events.wait_for(mark, "tcp", f"{target}:{HOLD_PORT}")
    # Only the entry's port: 80 and 443 stay closed for it.
    assert not ok(box.cmd(f"tcp {target} 443 1000"))
    assert testnet.events.hits(mark, "tcp", f"{target}:443") == []
    # The agent carried on: the same process, never restarted.
    assert box.cmd("pid") == pid_before

    # deny: no more answers, no new connection, and the open one ends.
    r = s.rustyolo("deny", f"{name}:{HOLD_PORT}")
    assert r.returncode == 0, r.stderr
    assert "1 open connection(s) ended" in r.stderr, r.stderr
    after_deny = testnet.events.mark()
    assert refused_or_nxdomain(stub(box, name))
    check = box.cmd("holdcheck")
    assert check.startswith("err") or check == "closed", f"the open connection must have ended: {check}"
    assert not ok(box.cmd(f"tcp {target} {HOLD_PORT} 1000"))
    assert wait_until(lambda: any(e["proto"] == "tcp-end" and e["local"].endswith(f"{target}:{HOLD_PORT}")
                                  for e in testnet.events.entries(mark)), 5), "the test host saw the connection end"
    assert testnet.events.hits(after_deny, "tcp", f"{target}:{HOLD_PORT}") == []
    # Positive control after the negatives: the session still works for its start entries.
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    assert ok(box.cmd(f"tcp {testnet.ip(20)} 443"))
    assert box.cmd("pid") == pid_before

    # Both changes are audit records naming who asked.
    records = policy_records(s)
    if len(records) < 2:  # the last record may still be on its way to the file
        time.sleep(2)
        records = policy_records(s)
    events = [(r["event"], r["details"]["result"]) for r in records]
    assert events == [("allow", "applied"), ("deny", "applied")], records
    assert all(r["details"]["requester"]["uid"] == os.getuid() for r in records)
    assert all(r["details"]["requester"]["pid"] > 0 and r["time"] for r in records)
    assert records[0]["details"]["requested"] == [f"{name}:{HOLD_PORT}"]


def policy_records(session):
    """The session's "policy" audit records, as `rustyolo audit show SESSION --json` gives them."""
    r = session.rustyolo("audit", "show", session.session, "--json")
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return [record for record in records if record.get("layer") == "policy"]


def test_cidr_entry_opens_and_closes_at_once(live, testnet):
    s = live()
    box = s.box
    target = testnet.ip(27)
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {target} {HOLD_PORT} 1000"))
    r = s.rustyolo("allow", f"{target}/32:{HOLD_PORT}")
    assert r.returncode == 0, r.stderr
    assert box.cmd(f"hold {target} {HOLD_PORT}") == f"ok hello from hosts {target} {HOLD_PORT}"
    r = s.rustyolo("deny", f"{target}/32:{HOLD_PORT}")
    assert r.returncode == 0, r.stderr
    after = testnet.events.mark()
    check = box.cmd("holdcheck")
    assert check.startswith("err") or check == "closed", check
    assert not ok(box.cmd(f"tcp {target} {HOLD_PORT} 1000"))
    assert testnet.events.hits(after, "tcp", f"{target}:{HOLD_PORT}") == []
    assert len(testnet.events.hits(mark, "tcp", f"{target}:{HOLD_PORT}")) == 1


@pytest.mark.parametrize("entry, named", [("bad..name", "bad..name"), ("127.0.0.1", "127.0.0.1"),
                                           ("example.com:99999", "example.com:99999"), ("*", "*")])
def test_invalid_entry_is_refused_with_its_value_and_changes_nothing(live, testnet, entry, named):
    s = live()
    box = s.box
    r = s.rustyolo("allow", "good.blocked.test", entry)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert named in r.stderr and "nothing was changed" in r.stderr, r.stderr
    # Nothing changed: the valid entry beside it was not applied either.
    assert refused_or_nxdomain(stub(box, "good.blocked.test"))
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]


def test_deny_of_an_entry_the_session_started_with_is_refused(live, testnet):
    s = live()
    r = s.rustyolo("deny", "allowed.test")
    assert r.returncode == 2, r.stderr
    assert "allowed.test" in r.stderr and "rustyolo allow" in r.stderr, r.stderr
    assert answers(stub(s.box, "allowed.test")) == [testnet.ip(20)]


def test_the_agent_has_no_path_to_the_control_socket(live, testnet):
    s = live()
    path = s.control_socket()
    # Positive twin: on the host the socket answers.
    r = s.rustyolo("allow", "--session", s.session, f"twin{netlib.token()}.blocked.test")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(path)
    # Inside: neither that path nor the runtime directory above it exists.
    assert s.box.cmd(f"unixconnect {path}").startswith("err ENOENT"), "the agent must not reach the control socket"
    assert s.box.cmd(f"unixconnect {os.path.join(os.path.dirname(path), 'x.sock')}").startswith("err ENOENT")


def test_several_sessions_need_a_session_id(live, testnet, rustyolo_bin, probes_dir, project_dir, workdir):
    first = live()
    # A second session in the first one's runtime dir: two control sockets there.
    env = first.env
    other = subprocess.Popen(
        [rustyolo_bin, "--network", testnet.name, "--allow-lan", "--dns-servers", testnet.dns_ip,
         "--image", os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest"), "-v", f"{probes_dir}:/probes:ro",
         "exec", "--", "/probes/netprobe", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=project_dir, env=env, text=True)
    try:
        assert other.stdout.readline().strip() == "R ready"
        r = first.rustyolo("allow", "x.blocked.test")
        assert r.returncode == 2, r.stderr
        assert "several sessions" in r.stderr and first.session in r.stderr, r.stderr
        r = first.rustyolo("allow", "--session", first.session, "x.blocked.test")
        assert r.returncode == 0, r.stderr
    finally:
        other.stdin.close()
        other.wait(timeout=60)


def test_no_widening_window_during_many_allow_deny_cycles(live, testnet):
    """Connections in a tight loop while the policy flips: nothing ever reaches a destination that
    neither policy allows (port 80 of the live name's address, another address), and after the
    last deny nothing reaches the live one either."""
    s = live()
    box = s.box
    name = f"flip{netlib.token()}.blocked.test"
    target, outside = testnet.ip(22), testnet.ip(25)
    mark = testnet.events.mark()
    stop = threading.Event()
    failures = []

    def flip():
        for _ in range(40):
            for verb in ("allow", "deny"):
                r = s.rustyolo(verb, "--session", s.session, f"{name}:{HOLD_PORT}")
                if r.returncode != 0:
                    failures.append(r.stderr)
                time.sleep(0.1)
        stop.set()

    flipper = threading.Thread(target=flip)
    flipper.start()
    attempts = 0
    while not stop.is_set():
        stub(box, name)
        box.cmd(f"tcp {target} {HOLD_PORT} 200")
        box.cmd(f"tcp {target} 80 100")
        box.cmd(f"tcp {outside} {HOLD_PORT} 100")
        attempts += 1
    flipper.join()
    assert not failures, failures
    assert attempts > 10, attempts
    after = testnet.events.mark()
    assert refused_or_nxdomain(stub(box, name))
    assert not ok(box.cmd(f"tcp {target} {HOLD_PORT} 1000"))
    # Positive: while allowed, the loop did get through.
    assert testnet.events.hits(mark, "tcp", f"{target}:{HOLD_PORT}"), "the loop never reached the live name"
    assert testnet.events.hits(mark, "tcp", f"{target}:80") == []
    assert testnet.events.hits(mark, "tcp", f"{outside}:") == []
    assert testnet.events.hits(after, "tcp", f"{target}:{HOLD_PORT}") == []


def test_allow_save_user_adds_the_entry_to_the_user_config_and_keeps_the_rest(live, testnet, tmp_path):
    s = live()
    config_home = tmp_path / "config"
    (config_home / "rustyolo").mkdir(parents=True)
    config = config_home / "rustyolo" / "config.toml"
    config.write_text("# mine\n[resources]\nmemory = \"2g\"  # enough\n")
    env = dict(s.env, XDG_CONFIG_HOME=str(config_home))
    r = s.rustyolo("allow", "--save", "user", "saved.blocked.test", env=env)
    assert r.returncode == 0, r.stderr
    assert config.read_text() == ("# mine\n[resources]\nmemory = \"2g\"  # enough\n\n[default]\n"
                                  "allow_domains = [\"saved.blocked.test\"]\n")
    assert answers(stub(s.box, "saved.blocked.test")) == [testnet.ip(22)]


def with_terminal(session, answer, *args, env=None):
    """`rustyolo ARGS` with a terminal as its stdin, on which `answer` is already typed."""
    master, slave = os.openpty()
    try:
        os.write(master, answer.encode())
        return session.rustyolo(*args, stdin=slave, env=env)
    finally:
        os.close(slave)
        os.close(master)


def test_allow_save_project_shows_everything_the_trust_would_accept(live, testnet, project_dir, tmp_path):
    s = live()
    project_file = os.path.join(project_dir, ".rustyolo.toml")
    env = dict(s.env, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    trust_store = tmp_path / "state" / "rustyolo" / "trust.json"
    # Changed outside the sandbox while the session runs, never trusted: it raises the memory limit.
    planted = '[resources]\nmemory = "64g"\n'
    with open(project_file, "w") as f:
        f.write(planted)
    r = with_terminal(s, "n\n", "allow", "--save", "project", "proj2.blocked.test", env=env)
    assert r.returncode == 0, r.stderr
    assert "proj2.blocked.test" in r.stderr and "64g" in r.stderr, r.stderr
    assert "NOT trusted" in r.stderr, r.stderr
    assert "not written" in r.stderr, r.stderr
    assert open(project_file).read() == planted
    assert not trust_store.exists()

    # The twin: a file with nothing else in it is written and trusted, with no warning.
    with open(project_file, "w") as f:
        f.write("")
    r = with_terminal(s, "y\n", "allow", "--save", "project", "proj3.blocked.test", env=env)
    assert r.returncode == 0, r.stderr
    assert "NOT trusted" not in r.stderr and "proj3.blocked.test" in r.stderr, r.stderr
    written = open(project_file).read()
    assert "proj3.blocked.test" in written
    assert hashlib.sha256(written.encode()).hexdigest() in trust_store.read_text()
    os.unlink(project_file)


def test_allow_save_project_without_a_terminal_writes_nothing(live, testnet, project_dir):
    s = live()
    # The running session holds an empty placeholder there (a protected path that did not exist).
    project_file = os.path.join(project_dir, ".rustyolo.toml")

    def content():
        return open(project_file).read() if os.path.exists(project_file) else None

    before = content()
    r = s.rustyolo("allow", "--save", "project", "proj.blocked.test")
    assert r.returncode == 2, r.stderr
    assert "needs a terminal" in r.stderr and "proj.blocked.test" in r.stderr, r.stderr
    assert content() == before
    # The entry itself was allowed in the session (the save is what was refused).
    assert answers(stub(s.box, "proj.blocked.test")) == [testnet.ip(22)]
