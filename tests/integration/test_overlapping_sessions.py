"""Two sessions on one project: the first one out must not undo the protection of the other.

Missing protected paths are empty placeholders on the host, mounted read-only. If session A removed
them at its exit while session B still runs, B's mounts would detach and B's agent could create
`.git/hooks/pre-commit`, `.envrc`, `.rustyolo.toml` or `.vscode/tasks.json` on the host. The
placeholders are counted per project (core/host/placeholders.hpp): the last session out removes them,
also when the first one was killed with SIGKILL."""

import os
import signal
import time
from pathlib import Path

import pytest

# B's attacks once A is gone: every one must fail. The twin: an ordinary file is created.
ATTACKS = ["mkdir:/app/.git/hooks", "create:/app/.git/hooks/pre-commit", "create:/app/.git/HEAD",
           "create:/app/.envrc", "create:/app/.rustyolo.toml", "create:/app/.vscode/tasks.json",
           "create:/app/.idea/workspace.xml"]
TWIN = "create:/app/b-made.txt"


def waiter(name: str, then: list[str] = ()) -> list[str]:
    """The agent's command: says it runs, waits for the host's go, then runs `then` (or exits)."""
    script = (f"touch /app/{name}-started; while [ ! -e /app/{name}-go ]; do sleep 0.1; done; "
              + ("exec /probes/fswrite64 \"$@\"" if then else "exit 0"))
    return ["exec", "--", "sh", "-c", script, "sh", *then]


def wait_for(path: Path, proc, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the session ended before {path.name} (exit {proc.returncode}):\n{out}\n{err}")
        assert time.time() < deadline, f"{path.name} did not appear within {timeout}s"
        time.sleep(0.1)


def results(out: str) -> dict[str, str]:
    got = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            got[f"{parts[0]}:{parts[1]}"] = parts[2]
    return got


def host_has_nothing_of_b(project: Path) -> None:
    for rel in (".git/hooks/pre-commit", ".git/HEAD", ".envrc", ".rustyolo.toml", ".vscode/tasks.json",
                ".idea/workspace.xml"):
        path = project / rel
        assert not path.exists() or path.read_text() == "", f"B's agent wrote {rel} on the host"


def overlap(rustyolo, project: Path, end_a) -> tuple[dict[str, str], str]:
    a = rustyolo.popen(waiter("a"), cwd=project)
    try:
        wait_for(project / "a-started", a)
        b = rustyolo.popen(waiter("b", [*ATTACKS, TWIN]), cwd=project)
        try:
            wait_for(project / "b-started", b)
            end_a(a)
            # A is gone: what it held must still be there, because B holds it too.
            for rel in (".envrc", ".rustyolo.toml", ".vscode", ".idea", ".git"):
                assert (project / rel).exists(), f"{rel} was removed while session B still uses it"
            (project / "b-go").touch()
            out, err = b.communicate(timeout=120)
            assert b.returncode == 0, f"B failed ({b.returncode}):\n{out}\n{err}"
            return results(out), out + err
        finally:
            if b.poll() is None:
                b.kill()
                b.communicate()
    finally:
        if a.poll() is None:
            os.killpg(a.pid, signal.SIGKILL)
            a.communicate()


def check(project: Path, got: dict[str, str], log: str) -> None:
    for op in ATTACKS:
        key = ":".join(op.split(":")[:2])
        assert got.get(key) not in (None, "OK"), f"{op} succeeded in B after A ended: {got}\n{log}"
    assert got.get(TWIN) == "OK", f"the twin failed: {got}\n{log}"
    host_has_nothing_of_b(project)
    # The last session out removed every placeholder.
    left = sorted(os.listdir(project))
    assert left == ["a-started", "b-go", "b-made.txt", "b-started"], f"left in the project: {left}\n{log}"


def test_the_first_session_out_leaves_the_others_protection_in_place(rustyolo, project):
    def end_a(a):
        (project / "a-go").touch()
        out, err = a.communicate(timeout=120)
        assert a.returncode == 0, f"A failed:\n{out}\n{err}"

    got, log = overlap(rustyolo, project, end_a)
    (project / "a-go").unlink()
    check(project, got, log)


@pytest.mark.kills_cli
def test_a_killed_session_leaves_the_others_protection_in_place_and_its_placeholders_are_removed(rustyolo, docker,
                                                                                                project):
    def end_a(a):
        names = list(a.sessions().values())
        os.killpg(a.pid, signal.SIGKILL)  # the CLI and its docker client: no end-of-session step runs
        a.communicate()
        for name in names:
            assert docker.wait_gone(name, 30), f"A's container {name} outlived its CLI"

    got, log = overlap(rustyolo, project, end_a)
    check(project, got, log)


# --- a directory swapped for a link between the CLI's check and the engine's mount ------------------
#
# Anything that can write in the project while a session starts (e.g. the agent of another session on
# it) can swap a directory the CLI checked for a symbolic link to a host directory outside the project
# before the engine mounts it; the engine follows links in mount sources. The swap is made here at
# exactly that moment, deterministically: by a `docker` wrapper first on the CLI's PATH, which swaps
# `.git/modules/evil/hooks` and then runs the real client. The entrypoint must notice that the mount
# is not what the CLI checked (entrypoint/mount_check.hpp) and start nothing. (The same swap raced by
# a real second session's agent was seen refused the same way, and once by the engine itself.)

SWAPPER = """#!{python}
import os, sys
if sys.argv[1:2] == ["run"]:
    hooks = {hooks!r}
    os.rename(hooks, hooks + ".real")
    os.symlink({secret!r}, hooks)
os.execv({next_docker!r}, [{next_docker!r}] + sys.argv[1:])
"""


def test_a_mount_source_swapped_for_a_link_after_the_check_is_refused_by_the_entrypoint(rustyolo, docker_shim,
                                                                                       project, tmp_path):
    import sys
    from test_git_metadata import make_repo, traversable
    make_repo(project)
    evil = project / ".git/modules/evil"
    (evil / "hooks").mkdir(parents=True)
    (evil / "HEAD").write_text((project / ".git/HEAD").read_text())
    for root, dirs, files in os.walk(project / ".git/modules"):
        for name in dirs + files:
            os.chown(os.path.join(root, name), 1000, 1000)
    os.chown(project / ".git/modules", 1000, 1000)
    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    (secret / "id_ed25519").write_text("HOST-SECRET-KEY\n")
    for p in (secret, secret / "id_ed25519"):
        os.chown(p, 1000, 1000)
    traversable(secret)
    read = ["sh", "-c", "cat /app/.git/modules/evil/hooks/id_ed25519; ls /app/.git/modules/evil/hooks"]
    # twin: without the swap, the session starts and sees the (empty, read-only) hooks directory
    twin = rustyolo.exec(read, cwd=project)
    assert twin.rc == 0 and "HOST-SECRET-KEY" not in twin.out and "rustyolo checked" not in twin.err, twin

    wrapper_dir = tmp_path / "swapper"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "docker"
    wrapper.write_text(SWAPPER.format(python=sys.executable, hooks=str(evil / "hooks"), secret=str(secret),
                                      next_docker=str(docker_shim / "docker")))
    wrapper.chmod(0o755)
    b = rustyolo.exec(read, cwd=project, env={"PATH": f"{wrapper_dir}:{docker_shim}:/usr/local/bin:/usr/bin:/bin"})
    assert (evil / "hooks").is_symlink(), "the wrapper did not swap the directory (the test proves nothing)"
    assert "HOST-SECRET-KEY" not in b.out, f"the session mounted a host directory the swap linked in:{b}"
    assert b.rc == 125 and "rustyolo checked" in b.err and "is a symbolic link" in b.err, b
