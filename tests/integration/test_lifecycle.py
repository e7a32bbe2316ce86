"""Lifecycle: the agent's exit status comes back as rustyolo's (128+n when killed by signal n);
SIGTERM and SIGINT sent to rustyolo reach the agent; killing rustyolo ends the container; the
session's container is removed and nothing is left behind (see also the autouse fixture in
conftest.py, which checks that after every test)."""

import os
import select
import signal
import subprocess
import time

import pytest


@pytest.mark.parametrize("code", [1, 42, 255])
def test_agent_exit_code_comes_back(rustyolo, project, code):
    run = rustyolo.exec(["sh", "-c", f"exit {code}"], cwd=project)
    assert run.rc == code, run


def test_twin_success_comes_back_as_0(rustyolo, project):
    run = rustyolo.exec(["true"], cwd=project)
    assert run.rc == 0, run


@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGKILL], ids=["SIGUSR1", "SIGKILL"])
def test_agent_killed_by_signal_comes_back_as_128_plus_n(rustyolo, project, sig):
    run = rustyolo.exec(["sh", "-c", f"kill -{int(sig)} $$"], cwd=project)
    assert run.rc == 128 + int(sig), run


def wait_for_line(proc: subprocess.Popen, wanted: str, timeout: float) -> str:
    """Reads proc's stdout (raw, so the rest is still there for communicate()) until a line equals
    `wanted`; returns what was read."""
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if wanted.encode() + b"\n" in seen:
                return seen.decode()
        elif proc.poll() is not None:
            break
    err = proc.stderr.read() if proc.poll() is not None else "(still running)"
    raise AssertionError(f"no line {wanted!r} within {timeout}s; stdout so far: {seen!r}; stderr: {err}")


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"rustyolo did not end within {timeout}s after the signal; stdout {out!r}, "
                             f"stderr {err!r}")
    return proc.returncode, out, err


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 64 + 15), (signal.SIGINT, 64 + 2)], ids=["SIGTERM", "SIGINT"])
def test_signal_to_rustyolo_reaches_the_agent(rustyolo, project, sig, code):
    """The stand-in agent handles the signal and exits 64+n: seeing that code proves the signal was
    delivered to the agent (not just that the container was torn down)."""
    proc = rustyolo.popen(["exec", "--", "/probes/sigwait64", "catch", "60"], cwd=project)
    head = wait_for_line(proc, "READY", 90)
    proc.send_signal(sig)
    rc, out, err = finish(proc, 30)
    out = head + out
    assert f"GOT {sig.name}" in out, f"the agent did not get {sig.name}; stdout {out!r}, stderr {err!r}"
    assert rc == code, f"exit {rc}, want {code}; stdout {out!r}, stderr {err!r}"


@pytest.mark.kills_cli
@pytest.mark.parametrize("mode", ["catch", "ignore"], ids=["agent-default", "agent-ignores-SIGTERM"])
def test_killing_rustyolo_ends_the_container(rustyolo, project, docker, mode):
    """SIGKILL to rustyolo (which then cannot clean up anything itself) must still end the session:
    the agent must not run on unsupervised, also when it ignores SIGTERM (design.md §8: the
    supervisor ends the agent when its connection to the CLI drops)."""
    proc = rustyolo.popen(["exec", "--", "/probes/sigwait64", mode, "120"], cwd=project)
    wait_for_line(proc, "READY", 90)
    sessions = proc.sessions()
    assert len(sessions) == 1, f"expected one docker run, saw sessions {sessions}"
    (name,) = sessions.values()
    assert docker.container_exists(name), f"no container {name} while the agent runs"
    proc.kill()  # rustyolo only, by its pid: its docker client is left to the sandbox's own mechanisms
    proc.wait(timeout=30)
    assert docker.wait_gone(name, 10), f"the session container {name} still runs 10s after rustyolo was killed"


def test_session_container_is_created_and_removed(rustyolo, project, docker):
    run = rustyolo.exec(["true"], cwd=project)
    assert run.rc == 0, run
    (name,) = run.sessions.values()
    actions = docker.container_actions(name, run.started, time.time())
    assert "create" in actions and "destroy" in actions, f"events of {name}: {actions}"
    assert not docker.container_exists(name), f"{name} is still there"
