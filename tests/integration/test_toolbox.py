"""The image's shared base is a dev environment: each tool of the documented toolbox runs as the
agent inside the full sandbox, and Node.js is the one entrypoint/Dockerfile pins. The agents'
programs are found on the agent's PATH in /opt/rustyolo/bin."""

import re
from pathlib import Path

import pytest

DOCKERFILE = Path(__file__).resolve().parents[2] / "entrypoint" / "Dockerfile"

# (program and arguments, what its output must contain). The list of docs/user-guide.md "Images".
TOOLS = [
    (["curl", "--version"], "curl "),
    (["wget", "--version"], "GNU Wget"),
    (["rg", "--version"], "ripgrep"),
    (["jq", "--version"], "jq-"),
    (["make", "--version"], "GNU Make"),
    (["gcc", "--version"], "gcc"),
    (["g++", "--version"], "g++"),
    (["python3", "--version"], "Python 3"),
    (["pip3", "--version"], "pip "),
    (["python3", "-m", "venv", "--help"], "usage: venv"),
    (["unzip", "-v"], "UnZip"),
    (["zip", "-v"], "Zip"),
    (["less", "--version"], "less "),
    (["ssh", "-V"], "OpenSSH"),
    (["git", "--version"], "git version"),
    (["ps", "--version"], "procps"),
    (["file", "--version"], "file-"),
    (["patch", "--version"], "GNU patch"),
    (["xz", "--version"], "xz (XZ Utils)"),
    (["bzip2", "--help"], "bzip2"),
    (["npm", "--version"], ""),
]


def pinned(arg: str) -> str:
    match = re.search(rf"^ARG {arg}=(\S+)$", DOCKERFILE.read_text(), re.M)
    assert match, f"no ARG {arg} in {DOCKERFILE}"
    return match.group(1)


@pytest.mark.parametrize("command,expect", TOOLS, ids=[" ".join(t[0]) for t in TOOLS])
def test_toolbox_program_runs_as_the_agent(rustyolo, project, command, expect):
    run = rustyolo.exec(command, cwd=project, probes=False)
    assert run.rc == 0, run
    assert expect in run.out + run.err, run


def test_the_tools_run_as_the_agent_not_root(rustyolo, project):
    # The tools above ran with the agent's ids: never root (the caller's uid, or 1000 for root).
    run = rustyolo.exec(["id", "-u"], cwd=project, probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1] != "0", run


def test_node_is_the_pinned_one(rustyolo, project):
    run = rustyolo.exec(["node", "--version"], cwd=project, probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1] == "v" + pinned("NODE_VERSION"), run
    npm = rustyolo.exec(["npm", "--version"], cwd=project, probes=False)
    assert npm.rc == 0, npm
    assert npm.lines()[-1] == pinned("NPM_VERSION"), npm


def test_node_runs_what_node_18_could_not(rustyolo, project):
    # fs.openAsBlob (Node.js >= 19.8) is what Qwen Code needs at start.
    run = rustyolo.exec(["node", "-e", "console.log(typeof require('node:fs').openAsBlob)"], cwd=project,
                        probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1] == "function", run


def test_the_agents_programs_are_on_the_agents_path(rustyolo, project):
    run = rustyolo.exec(["sh", "-c", 'echo "$PATH"'], cwd=project, probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1].split(":")[0] == "/opt/rustyolo/bin", run


def test_a_python_venv_with_pip_works_in_the_scratch_space(rustyolo, project):
    # A venv in /tmp (a writable tmpfs); pip runs inside it without the network.
    run = rustyolo.exec(["sh", "-c", "python3 -m venv /tmp/v && /tmp/v/bin/pip --version"], cwd=project,
                        probes=False)
    assert run.rc == 0, run
    assert "/tmp/v/" in run.out, run


def test_a_c_program_compiles_and_runs(rustyolo, project):
    (project / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hello from gcc"); return 0; }\n')
    run = rustyolo.exec(["sh", "-c", "gcc -o /tmp/hello hello.c && /tmp/hello"], cwd=project, probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1] == "hello from gcc", run
