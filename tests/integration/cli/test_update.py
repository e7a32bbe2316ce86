"""`rustyolo update --image` asks the runtime plugin whether the image reference is pulled from a
registry and with which command (the core knows no engine). The registry here is a closed port on
this machine's loopback, so nothing leaves the machine: the real engine client is run and fails to
connect, and the CLI reports the command and its exit status."""
import os
import socket
import subprocess

import pytest

RUSTYOLO = os.environ.get("RUSTYOLO_BIN")


def closed_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is


def run_update(tmp_path, image):
    if not RUSTYOLO:
        pytest.fail("RUSTYOLO_BIN is not set: run through scripts/test.sh")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_STATE_HOME": str(home / ".state"), "XDG_RUNTIME_DIR": "", "RUSTYOLO_IMAGE": image}
    return subprocess.run([RUSTYOLO, "update", "--image"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_registry_reference_is_pulled_with_the_runtime_plugins_command(tmp_path):
    image = f"localhost:{closed_loopback_port()}/rustyolo-test-nothing"
    result = run_update(tmp_path, image)
    assert result.returncode == 1, result.stderr
    assert f"pulling {image} failed (docker pull {image} exited with 1)" in result.stderr
    # the engine's own client ran and tried the loopback registry
    assert "connection refused" in result.stderr


def test_a_local_name_is_built_not_pulled(tmp_path):
    # Positive twin of the above: a local name is not pulled (no "pulling ... failed"); it goes to the
    # image build, which the engine refuses at once because the name is not a valid tag.
    result = run_update(tmp_path, "Not A Valid Tag")
    assert result.returncode == 1, result.stderr
    assert "pulling" not in result.stderr
    assert "rustyolo: building Not A Valid Tag" in result.stderr
    assert "image build failed (docker build exited with 125)" in result.stderr
