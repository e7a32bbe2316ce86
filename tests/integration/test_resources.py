"""Resource limits hold: a fork bomb stops at the pids limit, a memory bomb is killed (exit 137) at
the memory limit, and the host is fine afterwards. Both bombs are bounded probes
(tests/probes/forkbomb.c, membomb.c) that end by themselves, never an unbounded shell bomb.

Twins: a higher pids limit lets the same probe fork more (so the limit is what stopped it); an
allocation below the memory limit survives."""

import subprocess
from pathlib import Path


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def host_is_fine():
    done = subprocess.run(["/bin/true"], timeout=30)
    assert done.returncode == 0


def forkbomb(rustyolo, project, pids_limit):
    run = rustyolo.exec(["/probes/forkbomb64"], cwd=project, opts=["--pids-limit", str(pids_limit)])
    assert run.rc == 0, run
    got = run.pairs()
    return int(got["forked"]), got["errno"], int(got["reaped"]), run


def test_fork_bomb_is_contained_by_the_pids_limit(rustyolo, project):
    forked, err, reaped, run = forkbomb(rustyolo, project, 64)
    assert err == "EAGAIN", f"fork did not fail with EAGAIN at the limit:{run}"
    assert 0 < forked < 64, run
    assert reaped == forked, run
    assert processes_named("forkbomb64") == [], "fork bomb processes survive on the host"
    host_is_fine()


def test_twin_a_higher_pids_limit_allows_more_processes(rustyolo, project):
    forked_64, _, _, _ = forkbomb(rustyolo, project, 64)
    forked_160, err, _, run = forkbomb(rustyolo, project, 160)
    assert err == "EAGAIN", run
    assert forked_160 >= forked_64 + 90, f"{forked_64} at --pids-limit 64, {forked_160} at 160:{run}"


def _allocated(run) -> int:
    values = [int(line.split()[1]) for line in run.lines() if line.startswith("allocated ")]
    return max(values, default=0)


def test_memory_bomb_ends_with_137_at_the_memory_limit(rustyolo, project):
    run = rustyolo.exec(["/probes/membomb64", "4096"], cwd=project, opts=["--memory", "64m"], timeout=180)
    assert run.rc == 137, f"expected the OOM kill to come back as exit 137:{run}"
    assert "survived" not in run.out, run
    assert _allocated(run) <= 64, f"allocated {_allocated(run)} MiB under --memory 64m:{run}"
    assert processes_named("membomb64") == [], "memory bomb processes survive on the host"
    host_is_fine()


def test_twin_an_allocation_below_the_limit_survives(rustyolo, project):
    run = rustyolo.exec(["/probes/membomb64", "16"], cwd=project, opts=["--memory", "64m"])
    assert run.rc == 0, run
    assert "survived 16" in run.out, run
