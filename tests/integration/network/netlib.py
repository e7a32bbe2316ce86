"""Helpers for the hermetic network tests: Docker, the test network, its hosts and their logs, and
sandboxes that run the netprobe as the agent.

Hermetic rule: every packet a test causes goes to one of the test's own hosts on the test's own
Docker network, or stays inside a container. Names the tests resolve exist only in the test DNS
server; link-local targets are routed to a test host inside each container that probes them.
"""
import ipaddress
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import uuid

TEST_LABEL = "org.rustyolo.test=1"
# RUSTYOLO_TESTHOST_IMAGE: another tag, so that runs from different trees do not rebuild one another's.
TESTHOST_IMAGE = os.environ.get("RUSTYOLO_TESTHOST_IMAGE", "rustyolo-testhost:latest")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TESTHOSTS_DIR = os.path.join(REPO, "tests", "testhosts")

# Candidate subnets, tried in order until Docker accepts one (none overlaps this machine's own
# 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 10.255.255.0/24).
SUBNET_CANDIDATES = [(f"172.29.{n}", f"fd29:29:{n}::") for n in range(0, 16)]

LINK_LOCAL_TARGET = "169.254.77.1"
LINK_LOCAL_NET = "169.254.77.0/24"


def run(argv, check=True, timeout=300, **kwargs):
    """Runs a command (argv vector, never a shell) and returns the CompletedProcess."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv!r} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def docker(*args, check=True, timeout=300):
    return run(["docker", *args], check=check, timeout=timeout)


def image_exists(image):
    return docker("image", "inspect", image, check=False).returncode == 0


def token():
    return uuid.uuid4().hex[:10]


class LogFile:
    """A log that grows; mark() remembers where we are, since() returns what came after."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def since(self, mark):
        try:
            with open(self.path, "rb") as f:
                f.seek(mark)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""


class Events(LogFile):
    """The listener's JSON lines."""

    def entries(self, mark=0):
        out = []
        for line in self.since(mark).splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def hits(self, mark, proto, local_prefix):
        return [e for e in self.entries(mark) if e["proto"] == proto and e["local"].startswith(local_prefix)]

    def wait_for(self, mark, proto, local_prefix, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.hits(mark, proto, local_prefix)
            if found:
                return found
            time.sleep(0.1)
        return []


class TestNet:
    """One user-defined Docker network with a DNS server and a host that listens on many addresses."""

    def __init__(self, workdir, probes_dir):
        self.id = token()
        self.name = f"rytest-net-{self.id}"
        self.workdir = workdir
        self.probes_dir = probes_dir
        self.log_dir = os.path.join(workdir, "log")
        self.dns_dir = os.path.join(workdir, "dns")
        os.makedirs(self.log_dir)
        os.makedirs(self.dns_dir)
        os.chmod(self.log_dir, 0o777)
        self.containers = []
        self.v4 = self.v6 = None
        for v4, v6 in SUBNET_CANDIDATES:
            r = docker("network", "create", "--label", TEST_LABEL, "--ipv6",
                       "--subnet", f"{v4}.0/24", "--ip-range", f"{v4}.128/25",
                       "--subnet", f"{v6}/64", self.name, check=False)
            if r.returncode == 0:
                self.v4, self.v6 = v4, v6
                break
            if "overlap" not in r.stderr and "Pool overlaps" not in r.stderr:
                raise AssertionError(f"docker network create failed: {r.stderr}")
        if not self.v4:
            raise AssertionError("no free test subnet among " + ", ".join(c[0] for c in SUBNET_CANDIDATES))
        self.dns_ip = self.ip(53)
        self.dns_name = f"rytest-dns-{self.id}"
        self.hosts_name = f"rytest-hosts-{self.id}"
        self.events = Events(os.path.join(self.log_dir, "events.jsonl"))
        self.dns_log = LogFile(os.path.join(self.log_dir, "dnsmasq.log"))
        self._write_dns_config()
        self._start_hosts()
        self._start_dns()

    # Addresses on the test network.
    def ip(self, n):
        return f"{self.v4}.{n}"

    def ip6(self, n):
        return str(ipaddress.IPv6Address(f"{self.v6}{n}"))

    def _write_dns_config(self):
        with open(os.path.join(self.dns_dir, "dnsmasq.conf"), "w") as f:
            f.write("\n".join([
                "no-resolv", "no-hosts", "log-queries=extra", "log-facility=/log/dnsmasq.log",
                "addn-hosts=/etc/testdns/hosts", "local-ttl=1", "user=root",
                f"address=/wild.test/{self.ip(21)}",
                f"address=/blocked.test/{self.ip(22)}",
                f"address=/sub.allowed.test/{self.ip(23)}",
                "cname=alias.test,target.test",
            ]) + "\n")
        self.set_hosts(rotate=self.ip(24))

    def set_hosts(self, rotate):
        """Writes the hosts file (rotate.test's address can change); reload_dns() applies it."""
        lines = [
            f"{self.ip(20)} allowed.test", f"{self.ip6(20)} allowed.test",
            f"{rotate} rotate.test",
            f"{LINK_LOCAL_TARGET} linklocal.test",
            f"{self.ip(26)} target.test",
        ]
        path = os.path.join(self.dns_dir, "hosts")
        with open(path + ".new", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(path + ".new", path)

    def reload_dns(self):
        docker("kill", "--signal", "HUP", self.dns_name)
        time.sleep(0.5)

    def _start(self, name, args, command):
        docker("run", "-d", "--name", name, "--label", TEST_LABEL, "--network", self.name, *args,
               TESTHOST_IMAGE, *command)
        self.containers.append(name)

    def _start_hosts(self):
        script = " && ".join(
            [f"ip addr add {self.ip(n)}/24 dev eth0" for n in range(21, 30)]
            + [f"ip addr add {self.ip6(21)}/64 dev eth0", f"ip addr add {LINK_LOCAL_TARGET}/32 dev eth0",
               "exec rustyolo-test-listener --log /log/events.jsonl --name hosts --tcp 80,443,8080,22 "
               "--hold 7000 --udp 9999 --icmp"])
        self._start(self.hosts_name, ["--cap-add", "NET_ADMIN", "--ip", self.ip(20), "--ip6", self.ip6(20),
                                      "-v", f"{self.log_dir}:/log"], ["sh", "-c", script])
        deadline = time.time() + 20
        while time.time() < deadline:
            if any(e["proto"] == "ready" for e in self.events.entries()):
                return
            time.sleep(0.2)
        raise AssertionError("the test listener did not start:\n" + docker("logs", self.hosts_name, check=False).stderr)

    def _start_dns(self):
        self._start(self.dns_name, ["--ip", self.dns_ip, "--ip6", self.ip6(53), "-v", f"{self.dns_dir}:/etc/testdns:ro",
                                    "-v", f"{self.log_dir}:/log"],
                    ["dnsmasq", "-k", "-C", "/etc/testdns/dnsmasq.conf"])
        deadline = time.time() + 20
        while time.time() < deadline:
            if "started" in self.dns_log.since(0):
                return
            time.sleep(0.2)
        raise AssertionError("dnsmasq did not start:\n" + docker("logs", self.dns_name, check=False).stderr)

    def queries(self, mark):
        """The names dnsmasq was asked for since `mark` (lowercase)."""
        names = []
        for line in self.dns_log.since(mark).splitlines():
            if "query[" in line:
                names.append(line.split("] ", 1)[1].split(" from ")[0].lower())
        return names

    def control(self, *command, route_link_local=False, ipv6=True, user="1000:1000"):
        """Runs the probe in a plain container on the test network (no rustyolo, no firewall): the
        positive twin of a negative test, as `user` (Docker's default capabilities when root).
        Returns the probe's result line."""
        args = ["run", "--rm", "--label", TEST_LABEL, "--network", self.name, "-v", f"{self.probes_dir}:/probes:ro"]
        if not ipv6:
            args += ["--sysctl", "net.ipv6.conf.all.disable_ipv6=1"]
        if route_link_local:
            args += ["--cap-add", "NET_ADMIN", TESTHOST_IMAGE, "sh", "-c",
                     f"ip route add {LINK_LOCAL_NET} via {self.ip(20)} && exec /probes/netprobe \"$@\"", "probe",
                     *command]
        else:
            args += ["--user", user, TESTHOST_IMAGE, "/probes/netprobe", *command]
        return docker(*args, check=False, timeout=60).stdout.strip()

    def close(self):
        for name in self.containers:
            docker("rm", "-f", name, check=False)
        docker("network", "rm", self.name, check=False)


def container_pid(name):
    return docker("inspect", "-f", "{{.State.Pid}}", name).stdout.strip()


def nsenter(pid, *argv, check=True):
    """Runs a host program inside a container's network namespace (host root)."""
    return run(["nsenter", "-t", str(pid), "-n", *argv], check=check, timeout=60)


class Sandbox:
    """A running sandbox whose 'agent' is `netprobe -`: send commands, read result lines."""

    def __init__(self, argv, container, network, stderr_path, cwd=None, env=None):
        self.argv = argv
        self.container = container
        self.network = network
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     cwd=cwd, env=env, text=True, bufsize=1)
        self._buffer = ""
        first = self._read_result(timeout=120)
        if first != "ready":
            self.close()
            raise AssertionError(f"the sandbox did not start (got {first!r}):\n{self.stderr()}\n"
                                 f"command: {' '.join(argv)}")
        self.name = self._find_container()

    def _find_container(self):
        if self.container:
            return self.container
        # The CLI names its container itself: find it as the rustyolo session on our network.
        out = docker("ps", "--filter", f"network={self.network}", "--filter", "label=org.rustyolo.session",
                     "--format", "{{.Names}}").stdout.split()
        if len(out) != 1:
            raise AssertionError(f"expected one rustyolo container on {self.network}, found {out}")
        return out[0]

    def _read_result(self, timeout):
        deadline = time.time() + timeout
        while True:
            while "\n" in self._buffer:
                line, self._buffer = self._buffer.split("\n", 1)
                if line.startswith("R "):
                    return line[2:]
            remaining = deadline - time.time()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536).decode(errors="replace")
            if not chunk:
                return None
            self._buffer += chunk

    def cmd(self, line, timeout=30):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        result = self._read_result(timeout)
        if result is None:
            raise AssertionError(f"no answer to {line!r}; sandbox stderr:\n{self.stderr()}")
        return result

    def pid(self):
        return container_pid(self.name)

    def stderr(self):
        if not self._stderr.closed:
            self._stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("exit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        if self.container:
            docker("rm", "-f", self.container, check=False)


def build_probe(out_dir):
    """The static probe, compiled from source for this run."""
    source = os.path.join(HERE, "probe", "netprobe.c")
    target = os.path.join(out_dir, "netprobe")
    run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", target, source])
    os.chmod(out_dir, 0o755)
    return target


def build_harness(out_dir):
    source = os.path.join(HERE, "harness", "net_harness.cc")
    target = os.path.join(out_dir, "net-harness")
    run(["g++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-I", os.path.join(REPO, "sdk", "include"), "-o", target,
         source, "-ldl"])
    return target


def ensure_testhost_image(base_image):
    """Builds the test host image when its recipe changed (the recipe's hash is a label)."""
    import hashlib
    digest = hashlib.sha256()
    for name in sorted(os.listdir(TESTHOSTS_DIR)):
        with open(os.path.join(TESTHOSTS_DIR, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    want = digest.hexdigest()[:16]
    r = docker("image", "inspect", "-f", '{{index .Config.Labels "org.rustyolo.testhost-recipe"}}', TESTHOST_IMAGE,
               check=False)
    if r.returncode == 0 and r.stdout.strip() == want:
        return
    docker("build", "--build-arg", f"BASE_IMAGE={base_image}", "--label", f"org.rustyolo.testhost-recipe={want}",
           "-t", TESTHOST_IMAGE, TESTHOSTS_DIR, timeout=1800)
