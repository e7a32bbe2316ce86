"""Bad input never half-runs: a bad limit or allow entry exits 2 with a message naming the value,
and no container is created. The positive twin: valid values start a session whose cgroup
carries exactly those limits."""

import os

import pytest

BAD = [
    (["--memory", "0"], '"0"'),
    (["--memory", "4g;x"], '"4g;x"'),
    (["--pids-limit", "-1"], '"-1"'),
    (["--cpus", "1e12"], '"1e12"'),
    (["--allow-domains", "a.com;rm"], '"a.com;rm"'),
    (["--network", "host"], '"host"'),
    (["--network", "container:other"], '"container:other"'),
    (["--audit-max-bytes", "0"], '"0"'),
    (["--audit-max-bytes", "4g;x"], '"4g;x"'),
    (["--audit-max-bytes", "1e12"], '"1e12"'),
]


@pytest.mark.parametrize("opts,named", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_value_is_refused_before_anything_starts(opts, named, rustyolo_noimage, project, refused):
    run = rustyolo_noimage.run([*opts, "exec", "--", "true"], cwd=project, probes=False)
    refused(run, named)
    assert os.listdir(project) == [], f"the refused run changed the project: {os.listdir(project)}"


# Reads the limits from inside, for cgroup v1 and v2 alike ("-" when a file is missing).
CGROUP_SCRIPT = r"""
show() { if [ -r "$2" ]; then printf '%s %s\n' "$1" "$(cat "$2")"; fi; }
show memory /sys/fs/cgroup/memory/memory.limit_in_bytes
show memory /sys/fs/cgroup/memory.max
show pids /sys/fs/cgroup/pids/pids.max
show pids /sys/fs/cgroup/pids.max
show cpu_quota /sys/fs/cgroup/cpu/cpu.cfs_quota_us
show cpu_period /sys/fs/cgroup/cpu/cpu.cfs_period_us
show cpu_max /sys/fs/cgroup/cpu.max
"""


def test_valid_limits_reach_the_session_cgroup(rustyolo, project):
    run = rustyolo.exec(["sh", "-c", CGROUP_SCRIPT], cwd=project,
                        opts=["--memory", "512m", "--pids-limit", "100", "--cpus", "0.5"])
    assert run.rc == 0, run
    got = run.pairs()
    assert got.get("memory") == str(512 * 1024 * 1024), run
    assert got.get("pids") == "100", run
    if "cpu_max" in got:
        quota, period = got["cpu_max"].split()
    else:
        quota, period = got["cpu_quota"], got["cpu_period"]
    assert int(quota) / int(period) == pytest.approx(0.5), run


def test_default_limits_start_a_session_on_this_machine(rustyolo, project):
    """No limit options: the defaults must be ones this machine's engine accepts (e.g. not more
    CPUs than it has)."""
    run = rustyolo.exec(["true"], cwd=project)
    assert run.rc == 0, run
