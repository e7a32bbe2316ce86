"""Mounts that would undo the sandbox's own protections, each refused before anything starts, with a
positive twin that runs a real container:

- a read-write volume that contains the project (its parent) would let the agent write the
  project's .git/hooks through it; read-only, it mounts, and the hooks stay unwritable;
- a volume whose container path is a protected path (or above one) would replace the read-only
  mount there; elsewhere in the project it works;
- a directory holding a live Unix socket (a tmux-like server) would let the agent command that
  server; once nothing listens there, the same directory mounts and the socket is dead inside;
- a trusted project config that names files inside the project, or a project config that is a
  symbolic link, is refused; the same config naming files outside the project runs.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

AGENT_UID = AGENT_GID = 1000  # the agent's ids for a root caller (as conftest's project fixture)


def _git_project(project: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    for path in [project, *project.rglob("*")]:
        os.chown(path, AGENT_UID, AGENT_GID, follow_symlinks=False)
    return project


def _agent_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, AGENT_UID, AGENT_GID)
    return path


# --- a volume that contains the project -----------------------------------------------------------


def test_a_read_write_parent_of_the_project_is_refused(rustyolo, project, tmp_path, refused):
    _git_project(project)
    hook = project / ".git" / "hooks" / "pre-commit"
    for volume in (f"{tmp_path}:/host", f"{project}:/data"):
        run = rustyolo.exec(["/probes/fswrite64", "create:/host/project/.git/hooks/pre-commit",
                             "create:/data/.git/hooks/pre-commit"], cwd=project, opts=["-v", volume])
        refused(run, f'volume "{volume}" is read-write and', "Mount it read-only" if "/host" in volume else
                "The project is already at /app")
        assert not hook.exists()


def test_twin_a_read_only_parent_of_the_project_mounts_and_its_hooks_stay_unwritable(rustyolo, project, tmp_path):
    tmp_path.chmod(0o755)  # the agent may walk through the parent: only the read-only mount stops it
    _git_project(project)
    (project / "README").write_text("project file\n")
    run = rustyolo.exec(["/probes/fswrite64", "create:/host/project/.git/hooks/pre-commit", "create:/app/notes.txt"],
                        cwd=project, opts=["-v", f"{tmp_path}:/host:ro"])
    assert run.rc == 0, run
    assert "create /host/project/.git/hooks/pre-commit EROFS" in run.out, run
    assert "create /app/notes.txt OK" in run.out, run  # the project itself stays writable at /app
    assert not (project / ".git" / "hooks" / "pre-commit").exists()
    cat = rustyolo.exec(["cat", "/host/project/README"], cwd=project, opts=["-v", f"{tmp_path}:/host:ro"])
    assert cat.rc == 0 and cat.out == "project file\n", cat


# --- a volume over a protected path ----------------------------------------------------------------


@pytest.mark.parametrize("target", ["/app/.git/hooks", "/app/.git", "/app/.envrc", "/app/.vscode/tasks.json", "/app"])
def test_a_volume_over_a_protected_path_is_refused(target, rustyolo, project, tmp_path, refused):
    _git_project(project)
    other = _agent_dir(tmp_path / "other")
    run = rustyolo.exec(["/probes/fswrite64", f"create:{target}/pre-commit"], cwd=project,
                        opts=["-v", f"{other}:{target}"])
    refused(run, f'the container path "{target}"', "choose another container path" if target == "/app" else
            "would replace that protection")
    assert list(other.iterdir()) == []


def test_twin_a_volume_elsewhere_in_the_project_works_and_the_hooks_stay_read_only(rustyolo, project, tmp_path):
    _git_project(project)
    other = _agent_dir(tmp_path / "other")
    run = rustyolo.exec(["/probes/fswrite64", "create:/app/data/out.txt", "create:/app/.git/hooks/pre-commit"],
                        cwd=project, opts=["-v", f"{other}:/app/data"])
    assert run.rc == 0, run
    assert "create /app/data/out.txt OK" in run.out, run
    assert "create /app/.git/hooks/pre-commit EROFS" in run.out, run
    assert (other / "out.txt").read_text() == "pwned\n"
    assert not (project / ".git" / "hooks" / "pre-commit").exists()


# --- a directory holding a live Unix socket ------------------------------------------------------

# What the agent runs inside: connect to the socket and say what happened.
CONNECT = ("import socket,sys\n"
           "s=socket.socket(socket.AF_UNIX)\n"
           "try:\n"
           "    s.connect(sys.argv[1]); s.sendall(b'run-shell touch /pwned\\n'); print('CONNECTED')\n"
           "except OSError as e:\n"
           "    print('REFUSED', e.errno)\n")


class CommandServer:
    """Stands in for a tmux server: a stream socket at `path` that records what a client sends."""

    def __init__(self, path: Path):
        self.path = path
        self.received: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)  # tmux's own socket is the user's; the agent runs as that user here
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.received.append(conn.recv(4096))

    def stop(self):
        """Stops listening; the socket's name stays on disk, as after a crashed server."""
        if self.sock.fileno() < 0:
            return
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def tmux_dir(tmp_path):
    directory = tmp_path / "tmux-1000"
    directory.mkdir(mode=0o777)
    directory.chmod(0o777)
    server = CommandServer(directory / "default")
    yield directory, server
    server.stop()


def test_the_threat_a_live_socket_in_a_mounted_directory_is_reachable_from_a_container(docker, tmux_dir):
    """Why the rule exists: with Docker alone, a container that mounts the directory (read-only even)
    connects to the host's server and sends it a command."""
    directory, server = tmux_dir
    run = docker.baseline("python3", ["-c", CONNECT, "/t/default"], docker_opts=["-v", f"{directory}:/t:ro"])
    assert "CONNECTED" in run.out, run
    assert any(b"run-shell" in r for r in server.received), server.received


def test_a_directory_holding_a_live_socket_is_refused_even_read_only(rustyolo, project, tmux_dir, refused):
    directory, server = tmux_dir
    for volume in (f"{directory}:/t", f"{directory}:/t:ro", f"{directory.parent}:/t:ro"):
        run = rustyolo.exec(["python3", "-c", CONNECT, "/t/default"], cwd=project, opts=["-v", volume])
        refused(run, "(rule live-socket)", f'holds the Unix socket "{directory}/default"')
    assert server.received == []


def test_twin_once_nothing_listens_the_directory_mounts_and_the_socket_is_dead(rustyolo, project, tmux_dir):
    directory, server = tmux_dir
    server.stop()
    assert (directory / "default").is_socket()  # the name stays; the kernel no longer lists it
    run = rustyolo.exec(["python3", "-c", CONNECT, "/t/default"], cwd=project, opts=["-v", f"{directory}:/t:ro"])
    assert run.rc == 0, run
    assert "REFUSED 111" in run.out, run  # ECONNREFUSED: nothing to command


def test_a_live_socket_in_the_project_is_named_in_a_warning(rustyolo, project):
    """Not a refusal (project-local services are often meant for the agent), but said before the
    session starts; the agent can reach it, as the warning says."""
    server = CommandServer(project / "dev.sock")
    try:
        run = rustyolo.exec(["python3", "-c", CONNECT, "/app/dev.sock"], cwd=project)
    finally:
        server.stop()
    assert run.rc == 0, run
    assert f'the project holds live Unix sockets on which host processes listen: "{project}/dev.sock"' in run.err, run
    assert "CONNECTED" in run.out, run


# --- project config: files inside the project, and symbolic links -------------------------------


def _trust(rustyolo, project):
    return rustyolo.run(["trust"], cwd=project, probes=False)


def test_a_trusted_project_config_naming_files_inside_the_project_is_refused(rustyolo, project, refused):
    _agent_dir(project / "data")
    (project / ".rustyolo.toml").write_text('[default]\nvolumes = ["./data:/data"]\n'
                                            '[security]\nseccomp_profile = "./tools/profile.json"\n'
                                            '[runtime]\nplugins = ["./tools/helper.so"]\n')
    trust = _trust(rustyolo, project)
    assert trust.rc == 2, trust
    assert "refused even when trusted" in trust.err, trust
    run = rustyolo.exec(["true"], cwd=project, probes=False)
    refused(run, "names paths inside the project", f'volumes entry "./data:/data": its host path "./data" is '
            f"{project}/data", f'seccomp_profile "./tools/profile.json" is {project}/tools/profile.json',
            f'plugins entry "./tools/helper.so" is {project}/tools/helper.so')


def test_twin_a_trusted_project_config_naming_a_directory_outside_runs(rustyolo, project, tmp_path):
    outside = _agent_dir(tmp_path / "shared-data")
    (outside / "data.txt").write_text("shared\n")
    (project / ".rustyolo.toml").write_text(f'[default]\nvolumes = ["{outside}:/data:ro"]\n')
    untrusted = rustyolo.exec(["cat", "/data/data.txt"], cwd=project)
    assert untrusted.rc == 2 and "widens the" in untrusted.err, untrusted
    trust = _trust(rustyolo, project)
    assert trust.rc == 0, trust
    run = rustyolo.exec(["cat", "/data/data.txt"], cwd=project)
    assert run.rc == 0 and run.out == "shared\n", run


def test_a_project_config_that_is_a_symbolic_link_is_refused(rustyolo, project, tmp_path, refused):
    real = tmp_path / "elsewhere.toml"
    real.write_text('[resources]\npids_limit = 64\n')  # narrows: no trust needed
    (project / ".rustyolo.toml").symlink_to(real)
    run = rustyolo.exec(["true"], cwd=project, probes=False)
    refused(run, f"{project}/.rustyolo.toml is a symbolic link")
    trust = _trust(rustyolo, project)
    assert trust.rc == 2 and "is a symbolic link" in trust.err, trust


def test_twin_the_same_config_as_a_regular_file_applies(rustyolo, project, tmp_path):
    (project / ".rustyolo.toml").write_text('[resources]\npids_limit = 64\n')
    plan = rustyolo.run(["plan", "exec", "--", "true"], cwd=project, probes=False)
    assert plan.rc == 0 and json.loads(plan.out)["resources"]["pids"] == 64, plan
    run = rustyolo.exec(["true"], cwd=project)
    assert run.rc == 0, run


# --- a container path that reaches a reserved path through the image's own links -----------------
#
# The engine follows the image's symbolic links when it mounts: /var/run -> /run, /bin -> usr/bin,
# and /usr/bin holds links into the reserved directories (/usr/bin/ld.so is the dynamic loader in
# /usr/lib, which every program of the container, the supervisor first, is started with).


def test_the_threat_the_engine_follows_the_images_links_to_a_reserved_path(docker, tmp_path):
    """Why the rule exists: with Docker alone, a volume at /usr/bin/pidof lands on /usr/sbin/killall5
    and one at /var/run/rustyolo on /run/rustyolo, where the supervisor reads its Plan."""
    payload = tmp_path / "payload"
    payload.write_text("agent-written\n")
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "plan.json").write_text("{}\n")
    run = docker.baseline("/bin/sh", ["-c", "cat /usr/sbin/killall5 /run/rustyolo/plan.json"], hardened=False,
                          docker_opts=["-v", f"{payload}:/usr/bin/pidof:ro", "-v", f"{plans}:/var/run/rustyolo:ro"])
    assert run.rc == 0 and run.out == "agent-written\n{}\n", run


@pytest.mark.parametrize("target", ["/usr/bin/ld.so", "/usr/bin/pidof", "/bin/ld.so", "/var/run/rustyolo",
                                    "/var/run/rustyolo/plan.json", "/var/run"])
def test_a_container_path_through_the_images_links_to_a_reserved_path_is_refused(target, rustyolo_noimage, project,
                                                                                  tmp_path, refused):
    source = tmp_path / "source"
    if target.endswith(("ld.so", "pidof", "plan.json")):
        source.write_text("agent-written\n")
    else:
        source.mkdir()
    run = rustyolo_noimage.run(["-v", f"{source}:{target}:ro", "exec", "--", "true"], cwd=project, probes=False)
    refused(run, f'the container path "{target}"', "which the sandbox itself manages")


def test_twin_a_container_path_through_an_image_link_elsewhere_works(rustyolo, project, tmp_path):
    data = _agent_dir(tmp_path / "data")
    (data / "in.txt").write_text("through /var/run\n")
    run = rustyolo.exec(["cat", "/run/app/in.txt"], cwd=project, opts=["-v", f"{data}:/var/run/app:ro"])
    assert run.rc == 0 and run.out == "through /var/run\n", run


# --- a container path in the project that passes a symbolic link the agent made -------------------


def test_a_container_path_in_the_project_through_a_symbolic_link_is_refused(rustyolo_noimage, project, tmp_path,
                                                                            refused):
    """The engine resolves the container path inside the container and follows the project's links:
    with `data -> /usr/lib/rustyolo` (made by the agent in an earlier session), `-v X:/app/data`
    would put X where the supervisor is loaded from, before anything of rustyolo runs."""
    (project / "data").symlink_to("/usr/lib/rustyolo")
    source = _agent_dir(tmp_path / "x")
    run = rustyolo_noimage.run(["-v", f"{source}:/app/data", "exec", "--", "true"], cwd=project, probes=False)
    refused(run, 'the container path "/app/data"', f"{project}/data is a symbolic link")


# --- a linked worktree's git dirs live outside the project ---------------------------------------


def _worktree(tmp_path: Path) -> tuple[Path, Path]:
    """A repository at tmp_path/main and its linked worktree tmp_path/wt (the project): the
    worktree's hooks and configuration are the main repository's .git/hooks and .git/config."""
    main = tmp_path / "main"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run([*git, "init", "-q", str(main)], check=True)
    subprocess.run([*git, "-C", str(main), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    subprocess.run([*git, "-C", str(main), "worktree", "add", "-q", str(tmp_path / "wt")], check=True)
    tmp_path.chmod(0o755)
    for path in [main, *main.rglob("*"), tmp_path / "wt", *(tmp_path / "wt").rglob("*")]:
        os.chown(path, AGENT_UID, AGENT_GID, follow_symlinks=False)
    return main, tmp_path / "wt"


def test_a_read_write_volume_holding_the_worktrees_git_dir_is_refused(rustyolo, tmp_path, refused):
    main, wt = _worktree(tmp_path)
    for volume in (f"{main}:/main", f"{main}/.git:/gitdir", f"{main}/.git/hooks:/hooks"):
        run = rustyolo.exec(["/probes/fswrite64", "create:/main/.git/hooks/pre-commit", "create:/gitdir/hooks/pre-commit",
                             "create:/hooks/pre-commit"], cwd=wt, opts=["-v", volume])
        refused(run, f'volume "{volume}" is read-write and', f"the git dir {main.resolve()}/.git", "read-only")
        assert not (main / ".git" / "hooks" / "pre-commit").exists()


def test_twin_a_read_only_volume_of_the_main_checkout_mounts_and_its_hooks_stay_unwritable(rustyolo, tmp_path):
    main, wt = _worktree(tmp_path)
    run = rustyolo.exec(["/probes/fswrite64", "create:/main/.git/hooks/pre-commit", "create:/app/notes.txt"],
                        cwd=wt, opts=["-v", f"{main}:/main:ro"])
    assert run.rc == 0, run
    assert "create /main/.git/hooks/pre-commit EROFS" in run.out, run
    assert "create /app/notes.txt OK" in run.out, run
    assert not (main / ".git" / "hooks" / "pre-commit").exists()


# --- rustyolo's own files: what every later run trusts or loads -----------------------------------


@pytest.mark.parametrize("place", [".local/state/rustyolo", ".local/state", ".config/rustyolo/config.toml",
                                   ".local/share/rustyolo/plugins", ".local/share/rustyolo"])
def test_a_read_write_volume_holding_rustyolos_own_files_is_refused(place, rustyolo, project, refused):
    """The state directory holds the trust store (trust.json: which project configs may widen the
    policy) and the audit records; the config file and the plugin directory are read by every run."""
    home = rustyolo.home
    (home / ".config" / "rustyolo").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "rustyolo" / "config.toml").touch()
    (home / ".local" / "share" / "rustyolo" / "plugins").mkdir(parents=True, exist_ok=True)
    (home / ".local" / "state" / "rustyolo").mkdir(parents=True, exist_ok=True)
    source = home / place
    run = rustyolo.exec(["true"], cwd=project, opts=["-v", f"{source}:/x"], probes=False)
    refused(run, f'volume "{source}:/x" is read-write and', "rustyolo", "Mount it read-only")


@pytest.fixture
def short_runtime():
    """An XDG_RUNTIME_DIR of the test's own whose session socket paths stay within the 108 bytes
    of a Unix socket address (pytest's temporary directories can be too deep for that)."""
    runtime = Path(tempfile.mkdtemp(prefix="ryxdg-", dir="/tmp"))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


def test_a_read_write_volume_holding_rustyolos_runtime_directory_is_refused(rustyolo, project, short_runtime,
                                                                           refused):
    """The runtime directory holds the session sockets and the control sockets that change a running
    session's policy: an agent that could write there could stand in for a session's control
    socket. (Under /tmp the mount guard's runtime rule refuses it even read-only.)"""
    runtime = short_runtime
    run = rustyolo.exec(["true"], cwd=project, opts=["-v", f"{runtime}:/x"], probes=False,
                        env={"XDG_RUNTIME_DIR": str(runtime)})
    refused(run, f'volume "{runtime}:/x"', "runtime directory", "even read-only",
            "Mount a directory that does not hold it")


def test_a_read_only_volume_holding_rustyolos_runtime_directory_is_refused(rustyolo, project, tmp_path, refused):
    """connect() works on a read-only mount, and the session's own control socket is created in
    <runtime>/control after the volumes were judged (so the live-socket rule cannot see it): with
    $XDG_RUNTIME_DIR outside /run/user and /tmp/rustyolo-UID, a read-only volume holding it would
    give an agent that runs with the user's uid a path to its own session's control socket, through
    which it could allow itself anything. Read-only is no protection here: it is refused as well."""
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    run = rustyolo.exec(["stat", "-c", "%n %U %a", "/x/rustyolo", "/x/rustyolo/control"], cwd=project,
                        opts=["-v", f"{runtime}:/x:ro"], probes=False, env={"XDG_RUNTIME_DIR": str(runtime)})
    refused(run, f"{runtime}", "runtime directory")


def test_twin_another_directory_beside_the_runtime_directory_mounts_read_write(rustyolo, project, tmp_path,
                                                                             short_runtime):
    runtime = short_runtime
    other = tmp_path / "other"
    other.mkdir()
    run = rustyolo.exec(["true"], cwd=project, opts=["-v", f"{other}:/x"], probes=False,
                        env={"XDG_RUNTIME_DIR": str(runtime)})
    assert run.rc == 0, run


def test_twin_rustyolos_state_directory_mounts_read_only(rustyolo, project):
    state = rustyolo.home / ".local" / "state" / "rustyolo"
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    (state / "trust.json").touch()
    run = rustyolo.exec(["/probes/fswrite64", "write:/x/trust.json", "create:/x/other.json"], cwd=project,
                        opts=["-v", f"{state}:/x:ro"])
    assert run.rc == 0 and "write /x/trust.json EROFS" in run.out and "create /x/other.json EROFS" in run.out, run


# --- a trusted project config naming a file the agent writes outside the project ----------------


@pytest.mark.xfail(strict=True, reason="not fixed yet: paths_into_project() does not know the agent's state "
                   "directories (auth_home/<persisted name>, named by the agent plugin), which are agent-writable")
def test_a_trusted_project_config_naming_files_in_the_agents_state_directory_is_refused(rustyolo, project, refused):
    """The agent's persistent state (--auth-home, ~/.config/rustyolo/<agent> by default) is mounted
    read-write: the agent rewrites what is there, as it would in the project."""
    (project / ".rustyolo.toml").write_text('[security]\nseccomp_profile = "~/.config/rustyolo/claude/profile.json"\n'
                                            '[runtime]\nplugins = ["~/.config/rustyolo/claude/helper.so"]\n')
    trust = _trust(rustyolo, project)
    assert trust.rc == 2 and "refused even when trusted" in trust.err, trust


def test_a_trusted_project_config_naming_files_in_a_read_write_volume_is_refused(rustyolo, project, tmp_path):
    shared = _agent_dir(tmp_path / "shared")
    (project / ".rustyolo.toml").write_text(f'[default]\nvolumes = ["{shared}:/shared"]\n'
                                            f'[security]\nseccomp_profile = "{shared}/profile.json"\n')
    trust = _trust(rustyolo, project)
    assert trust.rc == 2 and "refused even when trusted" in trust.err, trust
    assert f'seccomp_profile "{shared}/profile.json" is {shared}/profile.json, in the read-write volume {shared}' \
        in trust.err, trust


def test_twin_a_trusted_project_config_naming_files_in_a_read_only_volume_runs(rustyolo, project, tmp_path):
    shared = _agent_dir(tmp_path / "shared")
    (shared / "data.txt").write_text("shared\n")
    (project / ".rustyolo.toml").write_text(f'[default]\nvolumes = ["{shared}:/shared:ro"]\n'
                                            f'[security]\naudit_dir = "{shared}/audit"\n')
    trust = _trust(rustyolo, project)
    assert trust.rc == 0, trust
    run = rustyolo.exec(["cat", "/shared/data.txt"], cwd=project)
    assert run.rc == 0 and run.out == "shared\n", run
