"""What a session can write is bounded: the image is read-only, scratch space is sized tmpfs.

Attacks, each with its positive twin in the same setup:
- writing past --tmp-size (also through /var/tmp) or --home-size gives ENOSPC and a `resource
  tmpfs_full` audit record, while writing under the size works and records nothing;
- writing anywhere in the image (/usr/local, /opt, /etc, /var, /run/lock), as the agent, fails,
  while the project and /tmp take writes;
- the image is read-only even for the supervisor's root (EROFS), and the files it prepared for the
  agent (/etc/passwd, /etc/group, /etc/resolv.conf) are root's and not writable by the agent;
- bad sizes and sizes that do not sum below --memory are refused before anything starts.
The project directory is the user's disk and is not bounded (docs/security-model.md)."""

import json
import os
import time

import pytest

MiB = 1024 * 1024


def audited(rustyolo, project, tmp_path, command, opts=()):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    run = rustyolo.exec(command, cwd=project, opts=list(opts), env={"XDG_STATE_HOME": str(state)})
    files = sorted((state / "rustyolo" / "audit").glob("*.jsonl"))
    assert len(files) <= 1, files
    records = [json.loads(line) for line in files[0].read_text().splitlines()] if files else []
    return run, records


def full_records(records):
    return [r for r in records if r["layer"] == "resource" and r["event"] == "tmpfs_full"]


# Writes MiB megabytes to FILE; prints "wrote N" (bytes on disk) and "rc N" (dd's exit code) and
# "enospc yes|no" (dd's message).
FILL = r"""
out=$(dd if=/dev/zero of="$1" bs=1M count="$2" 2>&1); rc=$?
printf 'rc %s\n' "$rc"
case "$out" in *"No space left on device"*) echo "enospc yes";; *) echo "enospc no";; esac
printf 'wrote %s\n' "$(stat -c %s "$1")"
"""


def fill(rustyolo, project, tmp_path, path, mib, opts):
    run, records = audited(rustyolo, project, tmp_path, ["sh", "-c", FILL, "fill", path, str(mib)], opts)
    assert run.rc == 0, run
    return run.pairs(), records, run


def test_writing_past_the_tmp_size_gives_enospc_and_a_record(rustyolo, project, tmp_path):
    got, records, run = fill(rustyolo, project, tmp_path, "/tmp/fill", 32, ["--tmp-size", "8m"])
    assert got["enospc"] == "yes" and got["rc"] != "0", run
    assert int(got["wrote"]) <= 8 * MiB, run
    (record,) = full_records(records)
    assert record["verdict"] == "block", record
    details = record["details"]
    assert details["path"] == "/tmp" and details["size_bytes"] == 8 * MiB, record
    assert details["option"] == "--tmp-size" and details["rule"] == "tmpfs size", record
    assert "tmpfs_full" in run.err, run  # the stderr summary counts it


def test_twin_writing_under_the_tmp_size_works_and_records_nothing(rustyolo, project, tmp_path):
    got, records, run = fill(rustyolo, project, tmp_path, "/tmp/fill", 8, ["--tmp-size", "16m"])
    assert got["rc"] == "0" and got["enospc"] == "no", run
    assert int(got["wrote"]) == 8 * MiB, run
    assert full_records(records) == [], records


def test_var_tmp_is_the_same_sized_tmpfs(rustyolo, project, tmp_path):
    got, records, run = fill(rustyolo, project, tmp_path, "/var/tmp/fill", 32, ["--tmp-size", "8m"])
    assert got["enospc"] == "yes", run
    assert [r["details"]["path"] for r in full_records(records)] == ["/tmp"], records


def test_writing_past_the_home_size_gives_enospc_and_a_record(rustyolo, project, tmp_path):
    got, records, run = fill(rustyolo, project, tmp_path, "/home/agent/fill", 32, ["--home-size", "8m"])
    assert got["enospc"] == "yes", run
    (record,) = full_records(records)
    assert record["details"]["path"] == "/home/agent" and record["details"]["option"] == "--home-size", record


def test_twin_the_project_is_not_bounded_by_the_scratch_sizes(rustyolo, project, tmp_path):
    got, records, run = fill(rustyolo, project, tmp_path, "/app/fill", 32, ["--tmp-size", "8m", "--home-size", "8m"])
    assert got["rc"] == "0" and int(got["wrote"]) == 32 * MiB, run
    assert (project / "fill").stat().st_size == 32 * MiB
    assert full_records(records) == []


# As the agent: try to create a file in each directory; prints "<dir> ok" or "<dir> <error>".
TRY_WRITE = r"""
for d in "$@"; do
  if err=$( { : > "$d/rustyolo-probe"; } 2>&1 ); then echo "$d ok"; else
    case "$err" in
      *"Read-only file system"*) echo "$d EROFS";;
      *"Permission denied"*) echo "$d EACCES";;
      *) echo "$d other";;
    esac
  fi
done
"""

IMAGE_DIRS = ["/usr/local", "/opt", "/etc", "/var", "/var/local", "/var/mail", "/run/lock", "/root", "/"]


def test_the_agent_cannot_write_the_image(rustyolo, project):
    run = rustyolo.exec(["sh", "-c", TRY_WRITE, "try", *IMAGE_DIRS, "/app", "/tmp", "/var/tmp", "/home/agent",
                         "/dev/shm"], cwd=project)
    assert run.rc == 0, run
    got = run.pairs()
    for d in IMAGE_DIRS:
        assert got.get(d) in ("EROFS", "EACCES"), f"{d}: {got.get(d)}:{run}"
    # Twin: the project and the scratch mounts take writes.
    for d in ["/app", "/tmp", "/var/tmp", "/home/agent", "/dev/shm"]:
        assert got.get(d) == "ok", f"{d}: {got.get(d)}:{run}"


def test_the_root_filesystem_is_read_only_even_for_root(rustyolo, project, docker):
    """The engine's view, not only file permissions: / and the engine's own /etc files are
    mounted read-only, the scratch mounts are sized tmpfs."""
    proc = rustyolo.popen(["exec", "--", "sleep", "30"], cwd=project)
    try:
        name = None
        for _ in range(300):
            sessions = proc.sessions()
            if sessions:
                name = next(iter(sessions.values()))
                probe = docker.run(["exec", name, "true"], check=False)
                if probe.returncode == 0:
                    break
            time.sleep(0.1)
        assert name, "no session started"
        tried = docker.run(["exec", name, "sh", "-c", TRY_WRITE, "try", "/usr/local", "/etc", "/opt", "/tmp"],
                           check=False)
        got = dict(line.split(" ", 1) for line in tried.stdout.split("\n") if line.strip())
        for d in ["/usr/local", "/etc", "/opt"]:
            assert got.get(d) == "EROFS", f"{d} as root: {got.get(d)}\n{tried.stdout}{tried.stderr}"
        assert got.get("/tmp") == "ok", tried.stdout  # twin
        mounts = docker.run(["exec", name, "cat", "/proc/self/mounts"]).stdout.splitlines()
        by_target = {line.split()[1]: line.split() for line in mounts}
        assert "ro" in by_target["/"][3].split(","), by_target["/"]
        for target in ["/tmp", "/home/agent", "/dev/shm"]:
            assert by_target[target][2] == "tmpfs" and "size=" in by_target[target][3], by_target[target]
        # The files the supervisor prepared are root's and read-only to the agent.
        listing = docker.run(["exec", name, "sh", "-c",
                              "stat -L -c '%n %u %a' /etc/passwd /etc/group /etc/resolv.conf; "
                              "grep -c '^agent:' /etc/passwd; cat /etc/resolv.conf"]).stdout
        for file in ["/etc/passwd", "/etc/group"]:
            assert f"{file} 0 644" in listing, listing
        # resolv.conf is the runtime's file (the user's, on the host), mounted read-only.
        assert f"/etc/resolv.conf {os.getuid()} 644" in listing, listing
        assert "ro" in by_target["/etc/resolv.conf"][3].split(","), by_target["/etc/resolv.conf"]
        assert "nameserver 127.0.0.1" in listing, listing
    finally:
        proc.terminate()  # forwarded to the agent, which ends the session
        proc.communicate(timeout=60)


def test_the_agent_cannot_change_its_account_or_resolver_files(rustyolo, project):
    run = rustyolo.exec(["sh", "-c", TRY_WRITE, "try", "/run/rustyolo/supervisor", "/run/rustyolo"], cwd=project)
    got = run.pairs()
    assert got.get("/run/rustyolo/supervisor") in ("EACCES", "EROFS"), run
    assert got.get("/run/rustyolo") in ("EACCES", "EROFS"), run
    append = rustyolo.exec(["sh", "-c", "for f in /etc/passwd /etc/group /etc/resolv.conf; do "
                            "if echo x >> $f 2>/dev/null; then echo $f ok; else echo $f refused; fi; done; "
                            "id -un; getent hosts localhost >/dev/null && echo resolve ok"], cwd=project)
    assert append.rc == 0, append
    got = append.pairs()
    for f in ["/etc/passwd", "/etc/group", "/etc/resolv.conf"]:
        assert got.get(f) == "refused", append
    # Twin: the account the supervisor wrote is the agent's name, and lookups work.
    assert "agent" in append.lines(), append


BAD_SIZES = [
    (["--tmp-size", "0"], '--tmp-size "0"'),
    (["--tmp-size", "unlimited"], '--tmp-size "unlimited"'),
    (["--home-size", "4g;x"], '--home-size "4g;x"'),
    (["--home-size", "-1"], '--home-size "-1"'),
    (["--tmp-size", "512k"], "below the minimum of 1m"),
    # Empty is a bad value, as for --memory, not a silent fall back to the default size.
    (["--tmp-size", ""], '--tmp-size "": the value is empty'),
    (["--home-size", ""], '--home-size "": the value is empty'),
]


@pytest.mark.parametrize("opts,named", BAD_SIZES, ids=[" ".join(b[0]) for b in BAD_SIZES])
def test_bad_size_is_refused_naming_the_value(opts, named, rustyolo_noimage, project, refused):
    run = rustyolo_noimage.run([*opts, "exec", "--", "true"], cwd=project, probes=False)
    refused(run, named)


def test_sizes_over_the_memory_limit_are_refused_naming_every_value(rustyolo_noimage, project, refused):
    run = rustyolo_noimage.run(["--memory", "1g", "--tmp-size", "768m", "exec", "--", "true"], cwd=project,
                               probes=False)
    refused(run, '--tmp-size "768m" = 805306368 bytes (768m)', "--home-size (default) = 268435456 bytes (256m)",
            "not below --memory 1073741824 bytes (1g)", "raise --memory")


def test_twin_sizes_below_the_memory_limit_reach_the_mounts(rustyolo, project):
    run = rustyolo.exec(["sh", "-c", "df -k /tmp /home/agent /dev/shm | tail -n +2"], cwd=project,
                        opts=["--memory", "1g", "--tmp-size", "600m", "--home-size", "300m"])
    assert run.rc == 0, run
    sizes = {line.split()[-1]: int(line.split()[1]) for line in run.lines()}
    assert sizes == {"/tmp": 600 * 1024, "/home/agent": 300 * 1024, "/dev/shm": 64 * 1024}, run


# Creates up to N empty files in DIR; prints "made N", "error <errno name>|none" and, after removing
# them, "alive yes": the agent is still there to say so. The files stay a second, longer than the
# supervisor's statfs poll (a tmpfs full for less than a poll may go unrecorded).
MANY_FILES = r"""
import errno, os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
made, err = 0, "none"
try:
    for i in range(n):
        open(os.path.join(d, "f%08d" % i), "w").close()
        made += 1
except OSError as e:
    err = errno.errorcode.get(e.errno, str(e.errno))
print("made", made)
print("error", err)
time.sleep(1)
for i in range(made):
    os.unlink(os.path.join(d, "f%08d" % i))
print("alive yes")
"""


@pytest.mark.parametrize("target", ["/tmp", "/home/agent", "/dev/shm"])
def test_empty_files_cannot_exceed_the_memory_the_size_allows(rustyolo, project, tmp_path, target):
    """Empty files take no blocks but each costs kernel memory (about 1 KiB, charged to the memory
    limit): without an inode limit a tmpfs of 64m holds millions of them and the session runs out
    of memory. Each tmpfs has at most one inode per page of its size, so the agent gets ENOSPC,
    and a record, long before."""
    run, records = audited(rustyolo, project, tmp_path, ["python3", "-c", MANY_FILES, target, "1000000"],
                           ["--memory", "256m"])
    assert run.rc == 0, run
    got = run.pairs()
    assert got.get("error") == "ENOSPC" and got.get("alive") == "yes", run
    assert int(got["made"]) < 64 * MiB // 4096, run  # /tmp and the home: a quarter of 256m each
    (record,) = full_records(records)
    assert record["details"]["path"] == target and record["details"]["free_inodes"] == 0, record


def test_twin_many_small_files_fit_the_scratch_space(rustyolo, project, tmp_path):
    run, records = audited(rustyolo, project, tmp_path, ["python3", "-c", MANY_FILES, "/tmp", "10000"],
                           ["--memory", "256m"])
    assert run.rc == 0, run
    got = run.pairs()
    assert got == {"made": "10000", "error": "none", "alive": "yes"}, run
    assert full_records(records) == [], records
