"""Harness for the integration suite: real rustyolo, real Docker engine, real image.

Nothing here skips: a missing binary or engine stops the session (pytest exits 3), a missing image
makes every test that needs it error with the command that builds it.

Environment:
    RUSTYOLO_BIN     the rustyolo executable under test (required; scripts/test.sh sets it)
    RUSTYOLO_IMAGE   the sandbox image (default rustyolo:latest)
    DOCKER           the docker client (default: `docker` on PATH, as scripts/lib.sh)

Fixtures for tests (also for the suites in subfolders):
    rustyolo          runs rustyolo: .exec([...], cwd=project), .run([...]), .popen([...])
    rustyolo_noimage  the same for runs that must be refused before anything starts (no image needed)
    probes            tests/probes/*.c compiled once (static, 64- and 32-bit), mounted at /probes:ro
    project           a fresh, empty project directory owned by the agent (1000:1000)
    docker            helpers around the docker client (baseline runs without rustyolo, events)
    refused           asserts that a run was refused before anything started

Every docker command rustyolo issues goes through a logging shim placed first on its PATH (it
execs the real client, so behaviour and signals are unchanged). So each Run knows its own docker
calls and session ids: a refused run provably started nothing, and the autouse fixture checks
exactly this test's sessions (other suites may share the engine) after every test: no container,
network, docker client process or runtime dir of them may remain.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROBE_SOURCES = HERE.parent / "probes"

IMAGE = os.environ.get("RUSTYOLO_IMAGE") or "rustyolo:latest"
DOCKER = os.environ.get("DOCKER") or shutil.which("docker") or "/usr/bin/docker"

# The agent's ids when the caller is root (as the tests are): never 0; 1000:1000 without SUDO_UID.
AGENT_UID = 1000
AGENT_GID = 1000

# Seconds one rustyolo session may take before the helper kills it and fails the test.
DEFAULT_TIMEOUT = 120

SESSION_LABEL = "org.rustyolo.session"
TEST_LABEL = "org.rustyolo.test"  # scripts/test.sh removes what carries it; our helper containers do
CALLS_ENV = "RYTEST_DOCKER_CALLS"  # where the shim logs docker calls (one JSON argv per line)

# Probes: source file -> ABIs to build. Every probe is static, so it runs in any image.
PROBES = {
    "syscalls": ("64", "32"),
    "fds": ("64",),
    "ids": ("64",),
    "setuid": ("64",),
    "forkbomb": ("64",),
    "membomb": ("64",),
    "sigwait": ("64",),
    "fswrite": ("64",),
    "forge": ("64",),
}


# --- the session's preconditions ------------------------------------------------------------------


def _rustyolo_bin() -> str:
    value = os.environ.get("RUSTYOLO_BIN")
    if not value:
        pytest.exit("RUSTYOLO_BIN is not set: point it at the rustyolo executable under test, e.g. "
                    "RUSTYOLO_BIN=$PWD/build/bin/rustyolo (scripts/test.sh does this after building)", returncode=3)
    if not (os.path.isfile(value) and os.access(value, os.X_OK)):
        pytest.exit(f"RUSTYOLO_BIN={value} is not an executable file; build it (cmake --build build)", returncode=3)
    return value


def pytest_sessionstart(session):
    _rustyolo_bin()
    try:
        info = subprocess.run([DOCKER, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.exit(f"no Docker engine: `{DOCKER} info` failed ({e}); start one with scripts/engine.sh start",
                    returncode=3)
    if info.returncode != 0:
        pytest.exit(f"no Docker engine answers `{DOCKER} info`: {info.stderr.strip()}; start one with "
                    "scripts/engine.sh start", returncode=3)


def pytest_configure(config):
    config.addinivalue_line("markers", "kills_cli: the test SIGKILLs rustyolo, which then cannot remove its "
                                       "session runtime dir")


@pytest.fixture(scope="session")
def image() -> str:
    """The sandbox image. Missing: every test that needs it errors with the build command."""
    inspect = subprocess.run([DOCKER, "image", "inspect", "--format", "{{.Id}}", IMAGE], capture_output=True,
                             text=True, timeout=60)
    if inspect.returncode != 0:
        pytest.fail(
            f"the sandbox image {IMAGE} does not exist ({inspect.stderr.strip()}). Build it with "
            f"`{os.environ.get('RUSTYOLO_BIN', 'build/bin/rustyolo')} image build --base-image "
            "\"$(bash scripts/base-image.sh | tail -n 1)\"`, or run `scripts/test.sh image integration`, "
            "or set RUSTYOLO_IMAGE to an existing one", pytrace=False)
    return IMAGE


# --- the docker shim: which docker commands did a run issue? -------------------------------------------

SHIM = """#!{python}
# rustyolo integration tests: logs each docker call, then becomes the real client.
import json, os, sys
log = os.environ.get({calls_env!r})
if log:
    with open(log, "a") as f:
        f.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({docker!r}, [{docker!r}] + sys.argv[1:])
"""

# Call logs of runs not yet checked by the autouse fixture (module-scoped runs included).
_PENDING_LOGS: list[Path] = []


@pytest.fixture(scope="session")
def docker_shim(tmp_path_factory) -> Path:
    """A dir holding `docker`, the logging shim, to put first on rustyolo's PATH."""
    bindir = tmp_path_factory.mktemp("docker-shim")
    real = shutil.which(DOCKER) or DOCKER
    shim = bindir / "docker"
    shim.write_text(SHIM.format(python=sys.executable, calls_env=CALLS_ENV, docker=real))
    shim.chmod(0o755)
    return bindir


def read_calls(log: Path) -> list[list[str]]:
    try:
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def sessions_in(calls: list[list[str]]) -> dict[str, str]:
    """{session id: container name} for every `docker run` among the calls."""
    out = {}
    for call in calls:
        if not call or call[0] != "run":
            continue
        labels = [call[i + 1] for i, w in enumerate(call[:-1]) if w == "--label"]
        names = [call[i + 1] for i, w in enumerate(call[:-1]) if w == "--name"]
        for label in labels:
            if label.startswith(SESSION_LABEL + "="):
                out[label.split("=", 1)[1]] = names[0] if names else ""
    return out


# --- runs ---------------------------------------------------------------------------------------


@dataclass(repr=False)
class Run:
    argv: list[str]
    rc: int
    out: str
    err: str
    started: float = 0.0
    ended: float = 0.0
    docker_calls: list[list[str]] = field(default_factory=list)

    def __str__(self) -> str:  # assertion messages (pytest shows repr() of a non-str message)
        calls = "\n".join("    docker " + " ".join(c[:3]) + (" ..." if len(c) > 3 else "") for c in self.docker_calls)
        return (f"\n  argv: {self.argv}\n  exit: {self.rc}\n  docker calls:\n{calls or '    (none)'}"
                f"\n  --- stdout ---\n{self.out}\n  --- stderr ---\n{self.err}")

    __repr__ = __str__

    @property
    def sessions(self) -> dict[str, str]:
        return sessions_in(self.docker_calls)

    def lines(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.strip()]

    def fswrite(self) -> dict[str, str]:
        """The fswrite probe's lines "OP PATH RESULT" as {"OP:PATH": RESULT}."""
        out = {}
        for line in self.lines():
            parts = line.split()
            if len(parts) == 3:
                out[f"{parts[0]}:{parts[1]}"] = parts[2]
        return out

    def pairs(self) -> dict[str, str]:
        """stdout lines "key value..." as a dict (the probes' output format)."""
        out = {}
        for line in self.lines():
            key, _, value = line.partition(" ")
            out[key] = value.strip()
        return out


def _kill_group(proc: subprocess.Popen) -> None:
    """Ends the process group we created for `proc` (rustyolo and its docker client), by its id."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Rustyolo:
    """Runs the rustyolo under test with argv lists (never a shell)."""

    def __init__(self, binary: str, image: str, home: Path, probes: Probes | None, shim: Path, logs: Path):
        self.binary = binary
        self.image = image
        self.home = home
        self.probes = probes
        self.shim = shim
        self.logs = logs

    def argv(self, words: list[str], probes: bool = True) -> list[str]:
        head = [self.binary, "--image", self.image]
        if probes:
            assert self.probes, "this runner has no probes (rustyolo_noimage): pass probes=False"
            head += ["-v", f"{self.probes.dir}:/probes:ro"]
        return head + list(words)

    def env(self, extra: dict | None, log: Path) -> dict[str, str]:
        """The caller's environment without what configures rustyolo (RUSTYOLO_*, TRUSTED_DOMAINS,
        XDG_*, SUDO_*), HOME set to the private test home, the docker shim first on PATH, plus `extra`."""
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith(("RUSTYOLO_", "XDG_", "SUDO_")) or k == "TRUSTED_DOMAINS")}
        env["HOME"] = str(self.home)
        env["PATH"] = f"{self.shim}:{env.get('PATH', '/usr/bin:/bin')}"
        env[CALLS_ENV] = str(log)
        env.update(extra or {})
        return env

    def _new_log(self) -> Path:
        fd, path = tempfile.mkstemp(prefix="calls-", suffix=".jsonl", dir=self.logs)
        os.close(fd)
        _PENDING_LOGS.append(Path(path))
        return Path(path)

    def run(self, words: list[str], cwd: Path, timeout: float = DEFAULT_TIMEOUT, env: dict | None = None,
            probes: bool = True) -> Run:
        argv = self.argv(words, probes)
        log = self._new_log()
        started = time.time()
        proc = subprocess.Popen(argv, cwd=cwd, env=self.env(env, log), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            pytest.fail(f"rustyolo did not finish within {timeout}s (killed):"
                        f"{Run(argv, -9, out, err, docker_calls=read_calls(log))}")
        return Run(argv, proc.returncode, out, err, started, time.time(), read_calls(log))

    def exec(self, command: list[str], cwd: Path, opts: list[str] = (), **kw) -> Run:
        """`rustyolo [opts] exec -- COMMAND...`"""
        return self.run([*opts, "exec", "--", *command], cwd, **kw)

    def popen(self, words: list[str], cwd: Path, env: dict | None = None, probes: bool = True) -> subprocess.Popen:
        """Starts rustyolo in its own process group with stdout/stderr piped, for tests that signal
        it. `proc.sessions()` gives its {session id: container name} once docker run was called."""
        log = self._new_log()
        proc = subprocess.Popen(self.argv(words, probes), cwd=cwd, env=self.env(env, log),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        proc.sessions = lambda: sessions_in(read_calls(log))
        return proc


@pytest.fixture(scope="session")
def test_home(tmp_path_factory) -> Path:
    """A private HOME for rustyolo, so that no config, trust store or auth dir of the machine's own
    user takes part."""
    home = tmp_path_factory.mktemp("home")
    home.chmod(0o755)
    return home


@pytest.fixture(scope="session")
def call_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docker-calls")


@pytest.fixture(scope="session")
def rustyolo(image, probes, test_home, docker_shim, call_logs) -> Rustyolo:
    return Rustyolo(_rustyolo_bin(), image, test_home, probes, docker_shim, call_logs)


@pytest.fixture(scope="session")
def rustyolo_noimage(test_home, docker_shim, call_logs) -> Rustyolo:
    """For runs that must be refused before anything starts: they need neither the image nor the
    probes (call .run(..., probes=False))."""
    return Rustyolo(_rustyolo_bin(), IMAGE, test_home, None, docker_shim, call_logs)


def write_project_files(project: Path, files: dict[str, str]) -> None:
    """Writes {relative path: content} into the project, owned (with their folders) by the agent's ids."""
    for rel, content in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    for root, dirs, names in os.walk(project):
        for name in dirs + names:
            os.lchown(os.path.join(root, name), AGENT_UID, AGENT_GID)


@pytest.fixture(scope="session")
def project_files():
    """write_project_files, for the tests (a fixture: test modules do not import conftest)."""
    return write_project_files


def make_project(parent: Path) -> Path:
    path = parent / "project"
    path.mkdir()
    os.chown(path, AGENT_UID, AGENT_GID)
    path.chmod(0o755)
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh project directory owned by the agent's uid/gid, so the agent can write to it."""
    return make_project(tmp_path)


@pytest.fixture(scope="session")
def project_factory(tmp_path_factory):
    """For module-scoped fixtures: project_factory("name") makes a fresh project like `project`."""
    return lambda name: make_project(tmp_path_factory.mktemp(name))


# --- probes -------------------------------------------------------------------------------------


@dataclass
class Probes:
    dir: Path  # on the host; /probes inside
    built: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="session")
def probes(tmp_path_factory) -> Probes:
    """Compiles tests/probes/*.c once per session: static, 64-bit and (where listed) -m32.

    Layout (host dir, mounted at /probes:ro):
        <name>64, <name>32   the probes
        setuid64             root-owned, mode 4755
        bin/claude           fswrite under the agent's name (a stand-in executable, see fswrite.c)
    """
    gcc = shutil.which("gcc")
    if not gcc:
        pytest.fail("gcc not found: install the packages in scripts/debian-packages.txt (scripts/deps.sh)",
                    pytrace=False)
    out = tmp_path_factory.mktemp("probes")
    out.chmod(0o755)
    probes = Probes(out)
    for name, abis in PROBES.items():
        for abi in abis:
            target = out / f"{name}{abi}"
            argv = [gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", str(target),
                    str(PROBE_SOURCES / f"{name}.c")]
            if abi == "32":
                argv.insert(1, "-m32")
            built = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            if built.returncode != 0:
                hint = (" (32-bit builds need gcc-multilib and libc6-dev-i386, listed in "
                        "scripts/debian-packages.txt: run scripts/deps.sh)") if abi == "32" else ""
                pytest.fail(f"cannot build probe {name} ({abi}-bit){hint}:\n{' '.join(argv)}\n{built.stderr}",
                            pytrace=False)
            target.chmod(0o755)
            probes.built[f"{name}{abi}"] = target
    setuid = probes.built["setuid64"]
    os.chown(setuid, 0, 0)
    setuid.chmod(0o4755)
    (out / "bin").mkdir(mode=0o755)
    shutil.copy2(probes.built["fswrite64"], out / "bin" / "claude")
    (out / "bin" / "claude").chmod(0o755)
    return probes


# --- docker helpers -----------------------------------------------------------------------------


class Docker:
    def __init__(self, image_name: str, request):
        self.image = image_name
        self._request = request  # image and probes are looked up only when a baseline run needs them

    @staticmethod
    def run(args: list[str], timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def baseline(self, entrypoint: str, args: list[str] = (), hardened: bool = True, docker_opts: list[str] = (),
                 timeout: float = 60) -> Run:
        """Runs ENTRYPOINT ARGS in a plain `docker run` of the same image, without rustyolo (so without
        its entrypoint and seccomp filter), with the probes at /probes. `hardened` (the default) runs
        it as the agent's uid with no capabilities and no_new_privs: what the agent would get from
        Docker alone. Not hardened: Docker's defaults (root, default capabilities)."""
        self._request.getfixturevalue("image")  # errors with the build command when it is missing
        probes = self._request.getfixturevalue("probes")
        argv = [DOCKER, "run", "--rm", "--name", f"rytest-baseline-{uuid.uuid4().hex[:12]}",
                "--label", f"{TEST_LABEL}=1", "-v", f"{probes.dir}:/probes:ro"]
        if hardened:
            argv += ["--user", f"{AGENT_UID}:{AGENT_GID}", "--cap-drop", "ALL", "--security-opt",
                     "no-new-privileges"]
        argv += [*docker_opts, "--entrypoint", entrypoint, self.image, *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(argv, done.returncode, done.stdout, done.stderr)

    @staticmethod
    def container_exists(name: str) -> bool:
        done = Docker.run(["ps", "-aq", "--filter", f"name=^/{name}$"], timeout=30)
        return bool(done.stdout.strip())

    @staticmethod
    def wait_gone(name: str, timeout: float) -> bool:
        deadline = time.time() + timeout
        while Docker.container_exists(name):
            if time.time() > deadline:
                return False
            time.sleep(0.5)
        return True

    @staticmethod
    def container_actions(name: str, since: float, until: float) -> list[str]:
        """The container's lifecycle events between two times (create, start, die, destroy, ...)."""
        done = Docker.run(["events", "--since", f"{since:.3f}", "--until", f"{until + 0.5:.3f}", "--filter",
                           "type=container", "--filter", f"container={name}", "--format", "{{.Action}}"], timeout=30)
        return done.stdout.split()

    @staticmethod
    def session_networks(session: str) -> list[str]:
        done = Docker.run(["network", "ls", "-q", "--filter", f"label={SESSION_LABEL}={session}"], timeout=30)
        return done.stdout.split()


@pytest.fixture(scope="session")
def docker(request) -> Docker:
    return Docker(IMAGE, request)


def client_processes(session: str) -> list[int]:
    """Docker clients still running for a session (their argv carries the session label)."""
    wanted = f"{SESSION_LABEL}={session}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if wanted in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def runtime_dir() -> Path:
    """Where rustyolo keeps session runtime dirs when XDG_RUNTIME_DIR is unset (core/host/paths.cc)."""
    return Path(f"/tmp/rustyolo-{os.getuid()}")


@pytest.fixture(autouse=True)
def nothing_left_behind(request):
    """After every test, for every session this test (or a module fixture before it) started: no
    container, session network, docker client process or runtime dir may remain. What remains is
    removed, and the test fails. A test that SIGKILLs rustyolo (which then cannot clean up) marks
    itself `kills_cli`: its runtime dirs are removed without failing."""
    yield
    logs = list(_PENDING_LOGS)
    _PENDING_LOGS.clear()
    sessions = {}
    for log in logs:
        sessions.update(sessions_in(read_calls(log)))
    problems = []
    for session, name in sessions.items():
        if name and not Docker.wait_gone(name, 10):  # --rm removal can lag the client's exit briefly
            problems.append(f"container {name} left")
            Docker.run(["rm", "-f", name], check=False)
        for net in Docker.session_networks(session):
            problems.append(f"network {net} of session {session} left")
            Docker.run(["network", "rm", net], check=False)
        pids = client_processes(session)
        if pids:
            problems.append(f"docker client processes {pids} of session {session} left")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        rdir = runtime_dir() / session
        if rdir.exists():
            shutil.rmtree(rdir, ignore_errors=True)
            if not request.node.get_closest_marker("kills_cli"):
                problems.append(f"runtime dir {rdir} left")
    if problems:
        pytest.fail("left behind after the test: " + "; ".join(problems), pytrace=False)


# --- small shared helpers (fixtures, so that test modules need not import conftest) ---------------


def parse_status(text: str) -> dict[str, str]:
    """/proc/<pid>/status as a dict."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


@pytest.fixture(scope="session")
def status_parser():
    return parse_status


@pytest.fixture
def refused():
    """Asserts that a run was refused before anything started: exit 2, every `needle` in stderr, and
    rustyolo never asked docker to create or start anything."""

    def check(run: Run, *needles: str) -> None:
        assert run.rc == 2, f"expected exit 2 (usage error):{run}"
        for needle in needles:
            assert needle in run.err, f"expected {needle!r} in the message:{run}"
        starting = [c for c in run.docker_calls if c and c[0] in ("run", "create", "start", "container")]
        assert not starting, f"rustyolo called docker to start something although it refused:{run}"

    return check
