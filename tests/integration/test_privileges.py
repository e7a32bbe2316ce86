"""Privileges of the agent inside the full sandbox: its uid/gid (never 0), a private home, no
capability in any set, no_new_privs, a seccomp filter, setuid binaries that give nothing, only fds
0-2 inherited, its own PID namespace with the entrypoint as PID 1 and parent.

Each negative property has a positive twin that shows the probe can see the opposite: the same
probe under plain Docker (or on the host) reports capabilities, setuid root, extra fds."""

import os
import subprocess

import pytest

AGENT_UID = 1000  # the agent's ids for a root caller (the spec; conftest's project fixture uses the same)
AGENT_GID = 1000
CAP_FIELDS = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
ZERO_CAPS = "0000000000000000"


@pytest.fixture(scope="module")
def agent_status(rustyolo, project_factory, status_parser):
    """/proc/self/status of a process started as the agent (cat, exec'd by the entrypoint)."""
    run = rustyolo.exec(["cat", "/proc/self/status"], cwd=project_factory("status"))
    assert run.rc == 0, run
    return status_parser(run.out), run


@pytest.fixture(scope="module")
def agent_ids(rustyolo, project_factory):
    run = rustyolo.exec(["/probes/ids64"], cwd=project_factory("ids"))
    assert run.rc == 0, run
    return run.pairs(), run


@pytest.fixture(scope="module")
def docker_default_status(docker, image, status_parser):
    """Twin: the same read under Docker's defaults (root, default capabilities, no no_new_privs)."""
    run = docker.baseline("/bin/cat", ["/proc/self/status"], hardened=False)
    assert run.rc == 0, run
    return status_parser(run.out), run


# --- identity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key,expected", [("uid", AGENT_UID), ("euid", AGENT_UID), ("suid", AGENT_UID),
                                          ("gid", AGENT_GID), ("egid", AGENT_GID), ("sgid", AGENT_GID)])
def test_agent_runs_with_the_plan_ids_never_root(agent_ids, key, expected):
    ids, run = agent_ids
    assert ids.get(key) == str(expected), run


def test_agent_has_no_supplementary_group_but_its_own(agent_ids):
    ids, run = agent_ids
    assert ids.get("groups") in ("-", str(AGENT_GID)), run


def test_agent_home_and_workdir(agent_ids):
    ids, run = agent_ids
    assert ids.get("home") == "/home/agent", run
    assert ids.get("cwd") == "/app", run


def test_home_is_a_private_tmpfs_owned_by_the_agent(rustyolo, project):
    script = ('stat -c "owner %u:%g" /home/agent; stat -c "mode %a" /home/agent; '
              'stat -f -c "fstype %T" /home/agent; touch /home/agent/x && echo "writable yes"')
    run = rustyolo.exec(["sh", "-c", script], cwd=project)
    assert run.rc == 0, run
    got = run.pairs()
    assert got.get("owner") == f"{AGENT_UID}:{AGENT_GID}", run
    assert got.get("mode") == "700", run
    assert got.get("fstype") == "tmpfs", run
    assert got.get("writable") == "yes", run


def test_no_privilege_helpers_in_the_image(rustyolo, project):
    """design.md §6: no gosu, no sudo (nothing the agent could use to become root)."""
    run = rustyolo.exec(["sh", "-c", "for b in sudo gosu su-exec doas; do command -v $b; done; echo checked"],
                        cwd=project)
    assert run.rc == 0, run
    assert run.lines() == ["checked"], f"privilege helpers found in the image:{run}"


# --- capabilities, no_new_privs, seccomp ------------------------------------------------------------


@pytest.mark.parametrize("field", CAP_FIELDS)
def test_agent_has_no_capability(agent_status, field):
    status, run = agent_status
    assert status.get(field) == ZERO_CAPS, f"{field} = {status.get(field)}:{run}"


def test_twin_capabilities_are_visible_where_they_exist(docker_default_status):
    status, run = docker_default_status
    assert status.get("CapBnd") != ZERO_CAPS and status.get("CapEff") != ZERO_CAPS, run


def test_agent_has_no_new_privs(agent_status):
    status, run = agent_status
    assert status.get("NoNewPrivs") == "1", run


def test_twin_no_new_privs_is_off_under_plain_docker(docker_default_status):
    status, run = docker_default_status
    assert status.get("NoNewPrivs") == "0", run


def test_agent_runs_under_a_seccomp_filter(agent_status):
    status, run = agent_status
    assert status.get("Seccomp") == "2", run


def test_agent_has_rustyolos_filter_on_top_of_dockers(agent_status, docker_default_status):
    """Docker installs one filter; the entrypoint adds at least one more."""
    status, run = agent_status
    docker_only = int(docker_default_status[0].get("Seccomp_filters", "0"))
    assert docker_only == 1, f"expected Docker alone to install exactly one filter:{docker_default_status[1]}"
    assert int(status.get("Seccomp_filters", "0")) >= 2, run


# --- setuid -------------------------------------------------------------------------------------


def test_setuid_root_binary_gives_nothing(rustyolo, project):
    run = rustyolo.exec(["/probes/setuid64"], cwd=project)
    assert run.rc == 0, run
    assert run.out.strip() == f"UID={AGENT_UID} EUID={AGENT_UID} SUID={AGENT_UID}", run


def test_twin_setuid_root_binary_works_without_no_new_privs(docker, image):
    """The same binary from the same read-only mount, as uid 1000 under plain Docker, becomes root:
    so EUID=1000 above is no_new_privs at work, not a broken probe or a nosuid mount."""
    run = docker.baseline("/probes/setuid64", hardened=False, docker_opts=["--user", f"{AGENT_UID}:{AGENT_GID}"])
    assert run.rc == 0, run
    assert run.out.strip() == f"UID={AGENT_UID} EUID=0 SUID=0", run


# --- file descriptors -----------------------------------------------------------------------------


def _fds(run):
    return sorted(int(line.split()[1]) for line in run.lines() if line.startswith("fd "))


def test_agent_inherits_only_fds_0_1_2(rustyolo, project):
    run = rustyolo.exec(["/probes/fds64"], cwd=project)
    assert run.rc == 0 and "done" in run.out, run
    assert _fds(run) == [0, 1, 2], f"the agent was started with more than stdin/stdout/stderr:{run}"


def test_twin_fd_lister_sees_an_inherited_fd(probes):
    """Twin on the host: an fd passed to the lister shows up."""
    r, w = os.pipe()
    try:
        done = subprocess.run([str(probes.built["fds64"])], pass_fds=[w], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
    finally:
        os.close(r)
        os.close(w)
    assert f"fd {w} pipe:" in done.stdout, done.stdout


# --- PID namespace --------------------------------------------------------------------------------


def test_agent_parent_is_the_entrypoint_as_pid_1(agent_ids):
    ids, run = agent_ids
    assert ids.get("ppid") == "1", run
    assert ids.get("pid") != "1", f"the agent must not be PID 1 (the entrypoint supervises it):{run}"
    assert ids.get("pid1_comm", "").startswith("rustyolo"), f"PID 1 is not rustyolo's entrypoint:{run}"


def test_agent_sees_only_its_own_pid_namespace(agent_ids):
    ids, run = agent_ids
    assert int(ids.get("visible_pids", "999")) <= 5, f"host processes are visible to the agent:{run}"


def test_twin_host_shows_many_processes(probes):
    done = subprocess.run([str(probes.built["ids64"])], capture_output=True, text=True, timeout=30)
    visible = dict(line.split(" ", 1) for line in done.stdout.splitlines())["visible_pids"]
    assert int(visible) > 5, done.stdout
