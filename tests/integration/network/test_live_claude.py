"""`rustyolo allow` / `deny` against a running `rustyolo claude`: the real Claude Code, started in a
terminal (a pty) in the full sandbox on the hermetic test network, waits at its first screen (no
model is reachable here); from a second "terminal" the test allows a refused name, then denies it.

The lookups are made inside the session's network namespace (nsenter -n, as host root, with the
netprobe) against the session's own DNS filter on 127.0.0.1:53: what the agent's own lookups get.
Claude Code keeps its process throughout: the change reaches the running session, nothing restarts.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

import pytest

import netlib


def wait_until(predicate, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def lookup(container_pid, probes_dir, name):
    run = netlib.nsenter(container_pid, os.path.join(probes_dir, "netprobe"), "dns", "127.0.0.1", "53", "udp",
                         name, "A", check=False)
    return run.stdout.strip()


def screen_text(chunks):
    """What the terminal showed, without control sequences or spaces (a TUI moves the cursor
    between words)."""
    text = re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b.", "",
                  "".join(chunks))
    return re.sub(r"\s+", "", text)


def claude_processes(container):
    """(host pid, command) of each process in the container that is Claude Code (its command is
    `claude`, or node running the claude script)."""
    out = netlib.docker("top", container, "-eo", "pid,args", check=False).stdout.splitlines()[1:]
    found = []
    for line in out:
        pid, _, args = line.strip().partition(" ")
        words = args.split()
        programs = [os.path.basename(w) for w in words[:2]]
        if "claude" in programs or (programs and programs[0] == "node" and "claude" in args.split("--")[0]):
            found.append((pid, args))
    return found


@pytest.fixture
def claude_session(rustyolo_bin, testnet, project_dir, workdir):
    image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
    if not netlib.image_exists(image):
        pytest.skip(f"the sandbox image {image} does not exist: build it with `rustyolo image build` first")
    runtime = tempfile.mkdtemp(prefix="rytest-live-", dir="/tmp")
    os.chmod(runtime, 0o700)
    # Claude Code's persisted state (--auth-home): first-run screens done and a placeholder API key
    # approved, so that it starts without reaching Anthropic (which it cannot here) and waits at
    # its folder-trust question for as long as the test needs.
    key = "sk-ant-test-" + "0" * 24
    auth_home = tempfile.mkdtemp(prefix="rytest-claude-auth-", dir=workdir)
    state = os.path.join(auth_home, "claude")
    os.makedirs(state)
    with open(os.path.join(state, ".claude.json"), "w") as f:
        json.dump({"hasCompletedOnboarding": True, "theme": "dark",
                   "customApiKeyResponses": {"approved": [key[-20:]], "rejected": []}}, f)
    for path in (auth_home, state, os.path.join(state, ".claude.json")):
        os.chown(path, 1000, 1000)  # the agent's uid for a root caller
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, TERM="xterm-256color", ANTHROPIC_API_KEY=key)
    for other in ("ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        env.pop(other, None)
    argv = [rustyolo_bin, "--network", testnet.name, "--allow-lan", "--dns-servers", testnet.dns_ip,
            "--image", image, "--memory", "2g", "--auth-home", auth_home, "claude"]
    master, slave = os.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=project_dir, env=env,
                            start_new_session=True)
    os.close(slave)
    screen = []

    def drain():  # the agent's screen, kept for failure messages; a full pty would block it
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    session = {"env": env, "proc": proc, "screen": screen, "container": None}
    try:
        def container():
            names = netlib.docker("ps", "--filter", f"network={testnet.name}", "--filter",
                                  "label=org.rustyolo.session", "--format", "{{.Names}}").stdout.split()
            return names[0] if len(names) == 1 else None

        session["container"] = wait_until(container, 120)
        assert session["container"], "no claude session container appeared:\n" + "".join(screen)[-3000:]
        yield session
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        os.close(master)
        subprocess.run(["rm", "-rf", runtime], check=False)
        if session["container"]:
            netlib.docker("rm", "-f", session["container"], check=False)


def test_allow_and_deny_change_a_running_claude_session_without_restarting_it(claude_session, rustyolo_bin,
                                                                             testnet, probes_dir):
    container = claude_session["container"]
    # Claude Code is up when it asks its first question (whether to trust the folder).
    assert wait_until(lambda: "trustthisfolder" in screen_text(claude_session["screen"]), 90), \
        "Claude Code did not show its first screen:\n" + screen_text(claude_session["screen"])[-3000:]
    agent = claude_processes(container)
    assert agent, "Claude Code is not running in the session"
    pid = netlib.container_pid(container)
    name = f"claude{netlib.token()}.blocked.test"  # the test DNS answers it with ip(22)

    refused = lookup(pid, probes_dir, name)
    assert refused.startswith("ok rcode=3 "), refused  # NXDOMAIN: not allowed yet

    allow = subprocess.run([rustyolo_bin, "allow", name], env=claude_session["env"], capture_output=True,
                           text=True, timeout=60)
    assert allow.returncode == 0, allow.stderr
    assert name in allow.stdout + allow.stderr
    answered = lookup(pid, probes_dir, name)
    assert answered.startswith("ok rcode=0 ") and answered.endswith(f" an={testnet.ip(22)}"), answered

    deny = subprocess.run([rustyolo_bin, "deny", name], env=claude_session["env"], capture_output=True,
                          text=True, timeout=60)
    assert deny.returncode == 0, deny.stderr
    assert lookup(pid, probes_dir, name).startswith("ok rcode=3 ")

    # The same Claude Code process, still running: the session was changed, not restarted.
    assert claude_session["proc"].poll() is None
    assert [p for p, _ in claude_processes(container)] == [p for p, _ in agent]
