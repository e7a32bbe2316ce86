"""rustyolo run as root (as these tests are), on projects of any owner, without a chown and without
the agent ever being root (core/host/idmap.hpp, entrypoint/project_owner.hpp):

- a project owned by an ordinary uid: the agent runs as that uid and gid;
- a project owned by root (mode 0700): the agent runs as 1000:1000 and writes through an idmapped
  clone of the project, so what it creates is root's on the host; the protected paths, bound from
  the same clone, stay read-only; files of other owners show as the overflow id and stay theirs;
- a filesystem that cannot be idmapped (ramfs): the start is refused with the reason and the ways out;
- root-owned agent state under --auth-home is the agent's to read and write, and stays root's;
- the supervisor refuses an /app that is not the agent's (a pasted --dry-run command of a
  root-owned project, which has no idmapped clone).

Each refusal or limit has its twin: the same run where the legitimate case works."""

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ZERO_CAPS = "0000000000000000"
CAP_FIELDS = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
STAND_IN_PATH = "PATH=/probes/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# What the agent does in the project: create, append, make directories (nested), write in them.
WORK = ('id -u; id -g; echo new > /app/created; echo more >> /app/existing; mkdir -p /app/dir/sub; '
        'echo nested > /app/dir/sub/file; mkdir /app/olddir/inner; echo appended >> /app/olddir/kept; '
        'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status; '
        'for p in /app/.envrc /app/.git/hooks/pre-commit /app/.git/config; do '
        '  if (echo pwned >> "$p") 2>/dev/null; then echo "writable $p"; else echo "read-only $p"; fi; done; '
        'if (echo pwned >> /app/foreign) 2>/dev/null; then echo "foreign writable"; else echo "foreign read-only"; fi; '
        'stat -c "foreign-owner %u:%g" /app/foreign; echo done')
NEW_FILES = ["created", "dir", "dir/sub", "dir/sub/file", "olddir/inner"]


def make_project(parent: Path, uid: int, gid: int) -> Path:
    """A project with an existing file, a directory with a file, git metadata and a file of a third
    user (1234), all owned by uid:gid except that file; the top is 0700 (only its owner enters)."""
    project = parent / f"project-{uid}"
    (project / "olddir").mkdir(parents=True)
    (project / "existing").write_text("existing\n")
    (project / "olddir" / "kept").write_text("kept\n")
    (project / ".git" / "hooks").mkdir(parents=True)
    (project / ".git" / "config").write_text("[core]\n\trepositoryformatversion = 0\n")
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / ".envrc").write_text("# the owner's\n")
    (project / "foreign").write_text("someone else's\n")
    (project / "foreign").chmod(0o644)
    for root, dirs, names in os.walk(project):
        for name in dirs + names:
            os.lchown(os.path.join(root, name), uid, gid)
    os.lchown(project / "foreign", 1234, 1234)
    os.chown(project, uid, gid)
    project.chmod(0o700)
    return project


def owners(project: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for root, dirs, names in os.walk(project):
        for name in dirs + names:
            path = Path(root) / name
            st = path.lstat()
            out[str(path.relative_to(project))] = (st.st_uid, st.st_gid)
    return out


def pairs(run) -> dict[str, str]:
    got = {}
    for line in run.lines():
        key, _, value = line.partition(" ")
        got.setdefault(key, value.strip())
    return got


def run_work(rustyolo, project: Path):
    before = owners(project)
    run = rustyolo.exec(["sh", "-c", WORK], cwd=project, probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1] == "done", run
    return before, run


def check_work(project: Path, before: dict, run, agent: tuple[int, int], on_disk: tuple[int, int]):
    lines = run.lines()
    assert lines[0] == str(agent[0]) and lines[1] == str(agent[1]), f"the agent's ids are not {agent}:{run}"
    assert agent[0] != 0 and agent[1] != 0
    caps = {line.split(":")[0]: line.split()[1] for line in lines if line.startswith("Cap")}
    assert caps == {f: ZERO_CAPS for f in CAP_FIELDS}, f"the agent has capabilities:{run}"
    for p in ("/app/.envrc", "/app/.git/hooks/pre-commit", "/app/.git/config"):
        assert f"read-only {p}" in lines, f"{p} is writable by the agent:{run}"
    assert "foreign read-only" in lines, f"another user's file is writable by the agent:{run}"
    after = owners(project)
    for rel in NEW_FILES:
        assert after.get(rel) == on_disk, f"{rel} belongs to {after.get(rel)} on the host, not {on_disk}:{run}"
    for rel, owner in before.items():
        assert after.get(rel) == owner, f"{rel} changed owner {owner} -> {after.get(rel)}"
    assert (project / "existing").read_text() == "existing\nmore\n"
    assert (project / "olddir" / "kept").read_text() == "kept\nappended\n"
    assert (project / "dir" / "sub" / "file").read_text() == "nested\n"
    assert (project / ".envrc").read_text() == "# the owner's\n"
    assert (project / "foreign").read_text() == "someone else's\n"
    st = project.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (on_disk[0], on_disk[1], 0o700), "the project's top changed"


def test_a_root_owned_project_is_written_through_an_idmapped_mount_and_new_files_are_roots(rustyolo, tmp_path):
    project = make_project(tmp_path, 0, 0)
    before, run = run_work(rustyolo, project)
    check_work(project, before, run, agent=(1000, 1000), on_disk=(0, 0))
    assert "idmapped mount" in run.err, f"the user is not told how the root-owned project is written:{run}"
    # Files of other owners show as the overflow id inside (the map names only 0).
    assert pairs(run).get("foreign-owner") == "65534:65534", run


def test_twin_a_project_of_an_ordinary_user_is_written_as_that_user(rustyolo, tmp_path):
    project = make_project(tmp_path, 1000, 1000)
    before, run = run_work(rustyolo, project)
    check_work(project, before, run, agent=(1000, 1000), on_disk=(1000, 1000))
    assert "idmapped" not in run.err, run
    assert pairs(run).get("foreign-owner") == "1234:1234", run


def test_a_project_of_a_foreign_uid_is_worked_on_as_its_owner(rustyolo, tmp_path):
    project = make_project(tmp_path, 2345, 3456)
    before, run = run_work(rustyolo, project)
    check_work(project, before, run, agent=(2345, 3456), on_disk=(2345, 3456))
    assert "the project's owner, uid 2345" in run.err, run


def test_the_idmapped_clone_is_gone_from_the_host_once_the_container_holds_it(rustyolo, tmp_path):
    project = make_project(tmp_path, 0, 0)
    proc = rustyolo.popen(["exec", "--", "sh", "-c", "echo started; sleep 5; echo done"], cwd=project, probes=False)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "started", proc.stderr.read()
        mounts = Path("/proc/self/mountinfo").read_text()
        assert "/tmp/rustyolo-0/idmap/" not in mounts, "the idmapped clone is still attached on the host"
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and out.strip() == "done", err
    assert "/tmp/rustyolo-0/idmap/" not in Path("/proc/self/mountinfo").read_text()


@pytest.fixture
def ramfs(tmp_path):
    mountpoint = tmp_path / "ramfs"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "ramfs", "-o", "mode=0700", "ramfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_a_root_owned_project_that_cannot_be_idmapped_is_refused_with_the_alternatives(rustyolo, ramfs, refused):
    (ramfs / "file").write_text("root's\n")
    run = rustyolo.exec(["true"], cwd=ramfs, probes=False)
    refused(run, f"the project {ramfs} is owned by root", "ramfs", "cannot make one", f"chown -R 1000:1000 {ramfs}",
            "run rustyolo as that user", "never runs the agent as root")
    assert sorted(p.name for p in ramfs.iterdir()) == ["file"], "the refused start left files behind"
    assert ramfs.stat().st_uid == 0 and (ramfs / "file").stat().st_uid == 0, "a refused start changed an owner"


def test_twin_the_same_ramfs_project_given_to_a_user_works(rustyolo, ramfs):
    (ramfs / "file").write_text("theirs\n")
    for p in (ramfs, ramfs / "file"):
        os.chown(p, 1000, 1000)
    run = rustyolo.exec(["sh", "-c", "echo new > /app/new && id -u"], cwd=ramfs, probes=False)
    assert run.rc == 0, run
    assert run.lines()[-1] == "1000", run
    assert (ramfs / "new").stat().st_uid == 1000


def create_missing_sources(argv: list[str], owner: int) -> None:
    """What the dry run says to do before pasting: create the protected paths that do not exist
    (the placeholders a real run makes): directories where another missing source lies inside."""
    sources = [dict(kv.split("=", 1) for kv in argv[i + 1].split(",") if "=" in kv).get("source")
               for i, w in enumerate(argv[:-1]) if w == "--mount"]
    missing = sorted({s for s in sources if s and not os.path.lexists(s)})
    for path in missing:
        if any(other.startswith(path + "/") for other in missing):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Path(path).touch()
        os.lchown(path, owner, owner)


def test_a_pasted_dry_run_of_a_root_owned_project_is_refused_by_the_supervisor(rustyolo, tmp_path):
    """The printed command has no idmapped clone: the supervisor sees /app owned by root, not by the
    agent, and does not start the agent."""
    project = make_project(tmp_path, 0, 0)
    dry = rustyolo.run(["--dry-run", "exec", "--", "touch", "/app/x"], cwd=project, probes=False)
    assert dry.rc == 0, dry
    assert "idmapped clone" in dry.err, dry
    argv = shlex.split(dry.out.strip().splitlines()[-1])
    create_missing_sources(argv, 0)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 125, done
    assert "project owner" in done.stderr and "is owned by uid 0 in the sandbox, not by the agent's uid 1000" \
        in done.stderr, done.stderr
    assert not (project / "x").exists()


def test_twin_a_pasted_dry_run_of_the_agents_own_project_starts(rustyolo, tmp_path):
    project = make_project(tmp_path, 1000, 1000)
    dry = rustyolo.run(["--dry-run", "exec", "--", "touch", "/app/x"], cwd=project, probes=False)
    assert dry.rc == 0, dry
    argv = shlex.split(dry.out.strip().splitlines()[-1])
    create_missing_sources(argv, 1000)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert (project / "x").stat().st_uid == 1000


def stand_in_claude(rustyolo, project: Path, auth_home: Path, ops: list[str]):
    run = rustyolo.run(["--auth-home", str(auth_home), "-e", STAND_IN_PATH, "-e", "FSWRITE_OPS=" + " ".join(ops),
                        "claude", "--", "--version"], cwd=project)
    assert run.rc == 0, run
    assert run.lines() and run.lines()[-1] == "done", run
    return {f"{a}:{b}": c for a, b, c in (line.split() for line in run.lines() if len(line.split()) == 3)}, run


STATE_OPS = ["write:/home/agent/.claude/settings.json", "create:/home/agent/.claude/new.json",
             "mkdir:/home/agent/.claude/projects"]


@pytest.mark.parametrize("project_owner", [0, 1000], ids=["root-project", "user-project"])
def test_root_owned_agent_state_is_the_agents_to_read_and_write_and_stays_roots(rustyolo, tmp_path, project_owner):
    """The state dir as an earlier root run made it (root's, 0700, settings 0600)."""
    project = make_project(tmp_path, project_owner, project_owner)
    auth = tmp_path / "auth"
    (auth / "claude").mkdir(parents=True)
    (auth / "claude").chmod(0o700)
    (auth / "claude" / "settings.json").write_text("{}\n")
    (auth / "claude" / "settings.json").chmod(0o600)
    got, run = stand_in_claude(rustyolo, project, auth, STATE_OPS)
    for op in STATE_OPS:
        assert got.get(op) == "OK", f"{op}: {got.get(op)}:{run}"
    for rel in ("settings.json", "new.json", "projects"):
        st = (auth / "claude" / rel).lstat()
        assert (st.st_uid, st.st_gid) == (0, 0), f"{rel} is {st.st_uid}:{st.st_gid} on the host"
    assert (auth / "claude" / "settings.json").read_text() == "pwned\n"
    assert "/tmp/rustyolo-0/idmap/" not in Path("/proc/self/mountinfo").read_text()


def test_twin_agent_state_of_the_agents_own_uid_is_used_as_it_is(rustyolo, tmp_path):
    project = make_project(tmp_path, 1000, 1000)
    auth = tmp_path / "auth"
    (auth / "claude").mkdir(parents=True)
    os.chown(auth / "claude", 1000, 1000)
    got, run = stand_in_claude(rustyolo, project, auth, ["create:/home/agent/.claude/new.json"])
    assert got.get("create:/home/agent/.claude/new.json") == "OK", run
    assert (auth / "claude" / "new.json").stat().st_uid == 1000


def test_agent_state_of_a_third_user_is_refused_with_the_reason(rustyolo, tmp_path, refused):
    project = make_project(tmp_path, 1000, 1000)
    auth = tmp_path / "auth"
    (auth / "claude").mkdir(parents=True)
    os.chown(auth / "claude", 1234, 1234)
    run = rustyolo.run(["--auth-home", str(auth), "claude", "--", "--version"], cwd=project)
    refused(run, f"the agent state directory {auth / 'claude'} (--auth-home) belongs to uid 1234",
            "the agent runs as uid 1000", "give it to uid 1000 or choose another --auth-home")


def test_the_agent_cannot_leave_a_setuid_root_program_in_a_root_owned_project(rustyolo, tmp_path):
    project = make_project(tmp_path, 0, 0)
    # The agent's seccomp filter refuses set-user-ID and set-group-ID modes (EPERM), whatever the call.
    run = rustyolo.exec(["sh", "-c", "cp /bin/true /app/x && chmod 4755 /app/x; chmod 2755 /app/x; "
                         "install -m 4755 /bin/true /app/y; echo done"], cwd=project, probes=False)
    assert run.rc == 0, run
    assert "Operation not permitted" in run.err, run
    for name in ("x", "y"):
        path = project / name
        if path.exists():
            st = path.lstat()
            assert not st.st_mode & 0o6000, f"{path} has a set-ID bit on the host (mode {st.st_mode:o}, uid {st.st_uid})"


def test_twin_the_agent_can_still_make_its_files_executable(rustyolo, tmp_path):
    project = make_project(tmp_path, 0, 0)
    run = rustyolo.exec(["sh", "-c", "cp /bin/true /app/x && chmod 755 /app/x && /app/x && echo ran"], cwd=project,
                        probes=False)
    assert run.rc == 0 and run.lines()[-1] == "ran", run
    assert (project / "x").lstat().st_mode & 0o7777 == 0o755


# --- an ordinary user: unchanged (the agent has the user's own rights, no more) ----------------------

USER_UID = 1000  # an ordinary user that reaches the engine through the socket's group


def as_ordinary_user(rustyolo, project: Path, home: Path, command: list[str]) -> subprocess.CompletedProcess:
    socket = Path("/var/run/docker.sock").stat()
    argv = ["setpriv", "--reuid", str(USER_UID), "--regid", str(USER_UID), "--groups", str(socket.st_gid),
            "env", "-i", f"HOME={home}", "PATH=/usr/local/bin:/usr/bin:/bin",
            rustyolo.binary, "--image", rustyolo.image, "exec", "--", *command]
    return subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture
def user_home() -> Path:
    """The ordinary user's home, in a directory of its own under /tmp that every user can enter
    (pytest's own temporary directories are 0700 below /tmp/pytest-of-root); the tests put their
    projects beside it."""
    base = Path(tempfile.mkdtemp(prefix="rytest-user-", dir="/tmp"))
    base.chmod(0o755)
    home = base / "user-home"
    home.mkdir()
    os.chown(home, USER_UID, USER_UID)
    yield home
    shutil.rmtree(base, ignore_errors=True)


def test_an_ordinary_user_works_on_its_own_project_as_itself(rustyolo, tmp_path, user_home):
    project = make_project(user_home.parent, USER_UID, USER_UID)
    done = as_ordinary_user(rustyolo, project, user_home, ["sh", "-c", "echo new > /app/new; id -u"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(USER_UID)], done.stdout
    assert (project / "new").stat().st_uid == USER_UID
    assert "idmapped" not in done.stderr, done.stderr


def test_an_ordinary_user_in_a_project_of_another_user_does_not_start_the_agent(rustyolo, tmp_path, user_home):
    """Only root's CLI picks the owner's ids or idmaps; an ordinary user's agent has that user's
    rights, no more, so in a shared project of another owner (here world-writable, so that the
    placeholders can be made) the supervisor refuses to start it."""
    project = make_project(user_home.parent, 2345, 2345)
    for root, dirs, _ in os.walk(project):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777)
    project.chmod(0o777)
    done = as_ordinary_user(rustyolo, project, user_home, ["sh", "-c", "echo new > /app/new"])
    assert done.returncode == 125, done.stderr
    assert f"is owned by uid 2345 in the sandbox, not by the agent's uid {USER_UID}" in done.stderr, done.stderr
    assert not (project / "new").exists()
