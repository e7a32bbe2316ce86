"""Mounts the guard must refuse are refused before anything starts: rustyolo exits 2, the message
names the rule, no container is created and nothing is written into the project. The positive twin:
an ordinary directory mounts and works, read-only and read-write."""

import os
import socket
from pathlib import Path

import pytest

DOCKER_SOCKET = "/var/run/docker.sock"


@pytest.fixture
def fake_home(test_home):
    """The test HOME (see conftest) with an ~/.ssh holding a fake key, as a user's would."""
    ssh = test_home / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    (ssh / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n")
    return test_home


def _socket_at(path: Path) -> Path:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the socket file stays
    return path


# (id, how to build the host path from tmp_path and home, expected rule, the canonical path the message
# must show when it differs from what was typed ("HOME": the test home), or None)
CASES = [
    ("docker-socket", lambda tmp, home: DOCKER_SOCKET, "socket", "/run/docker.sock"),
    ("symlink-to-docker-socket", lambda tmp, home: _symlink(tmp / "innocent", DOCKER_SOCKET), "socket",
     "/run/docker.sock"),
    ("proc", lambda tmp, home: "/proc", "sensitive-root", None),
    ("double-slash-proc", lambda tmp, home: "//proc", "sensitive-root", "/proc"),
    ("dot-proc", lambda tmp, home: "/./proc", "sensitive-root", "/proc"),
    ("proc-self-root", lambda tmp, home: "/proc/self/root", "sensitive-root", "/"),
    ("etc", lambda tmp, home: "/etc", "sensitive-root", None),
    ("home-ssh", lambda tmp, home: str(home / ".ssh"), "secret-dir", None),
    ("ancestor-of-home-ssh", lambda tmp, home: str(home), "secret-dir", None),
    ("ancestor-of-home-ssh-via-dotdot", lambda tmp, home: str(home / ".ssh" / ".."), "secret-dir", "HOME"),
    ("unix-socket", lambda tmp, home: str(_socket_at(tmp / "my.sock")), "socket", None),
    ("device-dev-null", lambda tmp, home: "/dev/null", "device", None),
]


def _symlink(link: Path, target: str) -> str:
    link.symlink_to(target)
    return str(link)


def test_the_docker_socket_exists_on_this_host():
    """Precondition of the socket cases: the engine's socket is really there (so the guard judges a
    live socket, not a missing path)."""
    assert Path(DOCKER_SOCKET).is_socket(), f"{DOCKER_SOCKET} is not a socket on this host"


@pytest.mark.parametrize("case_id,make,rule,canonical", CASES, ids=[c[0] for c in CASES])
def test_mount_is_refused_before_anything_starts(case_id, make, rule, canonical, rustyolo_noimage, project, tmp_path,
                                                 fake_home, refused):
    host_path = make(tmp_path, fake_home)
    spec = f"{host_path}:/x"
    for readonly in (False, True):  # read-only never makes a refused path acceptable
        volume = spec + (":ro" if readonly else "")
        run = rustyolo_noimage.run(["-v", volume, "exec", "--", "true"], cwd=project, probes=False)
        refused(run, f"(rule {rule})", f'"{volume}"')
        if canonical:
            shown = str(fake_home) if canonical == "HOME" else canonical
            assert f'resolves to "{shown}"' in run.err, run
        assert os.listdir(project) == [], f"the refused run changed the project: {os.listdir(project)}"


def test_an_ordinary_directory_mounts_read_only_and_read_write(rustyolo, project, tmp_path):
    """Positive twin: a plain data directory is accepted, readable, and writable only when rw."""
    ro = tmp_path / "ro-data"
    rw = tmp_path / "rw-data"
    for d in (ro, rw):
        d.mkdir()
        (d / "file.txt").write_text("host data\n")
        os.chown(d, 1000, 1000)
    run = rustyolo.exec(["/probes/fswrite64", "write:/ro/file.txt", "create:/ro/new.txt", "create:/rw/new.txt"],
                        cwd=project, opts=["-v", f"{ro}:/ro:ro", "-v", f"{rw}:/rw"])
    assert run.rc == 0, run
    assert "write /ro/file.txt EROFS" in run.out, run
    assert "create /ro/new.txt EROFS" in run.out, run
    assert "create /rw/new.txt OK" in run.out, run
    assert (ro / "file.txt").read_text() == "host data\n"
    assert not (ro / "new.txt").exists()
    assert (rw / "new.txt").read_text() == "pwned\n"
    cat = rustyolo.exec(["cat", "/ro/file.txt"], cwd=project, opts=["-v", f"{ro}:/ro:ro"])
    assert cat.rc == 0 and cat.out == "host data\n", cat
