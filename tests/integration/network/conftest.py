"""Fixtures for the hermetic network tests.

Two ways to get a sandbox whose agent is the netprobe:
  cli      the real thing: `rustyolo exec` with the sandbox image (RUSTYOLO_IMAGE, default
           rustyolo:latest), its entrypoint as PID 1 and the installed plugins.
  harness  the network plugin and DNS filter from this build, loaded by net-harness (a minimal
           supervisor) in a scratch container with the same capabilities as the real one. It also
           covers what the CLI cannot do hermetically: Docker's embedded resolver (127.0.0.11)
           forwarding to the test DNS server (docker run --dns), and IPv6 switched on.
Environment: RUSTYOLO_BIN (the CLI, required), RUSTYOLO_IMAGE, RUSTYOLO_BASE_IMAGE, RUSTYOLO_TESTHOST_IMAGE
(the test hosts' image tag; default rustyolo-testhost:latest).
"""
import json
import os
import shutil
import tempfile

import pytest

import netlib

SUPERVISOR_CAPS = ["NET_ADMIN", "NET_BIND_SERVICE", "SETUID", "SETGID", "SETPCAP"]


@pytest.fixture(scope="session")
def rustyolo_bin():
    path = os.environ.get("RUSTYOLO_BIN")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("RUSTYOLO_BIN must name the built rustyolo CLI (e.g. build/bin/rustyolo)")
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def engine():
    r = netlib.docker("info", check=False, timeout=60)
    if r.returncode != 0:
        pytest.fail("no Docker engine answers `docker info`: " + r.stderr.strip())


@pytest.fixture(scope="session")
def workdir():
    path = tempfile.mkdtemp(prefix="rytest-net-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def probes_dir(workdir):
    path = os.path.join(workdir, "probes")
    os.makedirs(path)
    netlib.build_probe(path)
    return path


@pytest.fixture(scope="session")
def tools_dir(workdir):
    path = os.path.join(workdir, "tools")
    os.makedirs(path)
    netlib.build_harness(path)
    return path


@pytest.fixture(scope="session")
def testnet(engine, workdir, probes_dir):
    base = os.environ.get("RUSTYOLO_BASE_IMAGE") or (
        "rustyolo-base:bookworm" if netlib.image_exists("rustyolo-base:bookworm") else "debian:bookworm-slim")
    netlib.ensure_testhost_image(base)
    net = netlib.TestNet(os.path.join(workdir, "net"), probes_dir)
    yield net
    net.close()


@pytest.fixture(scope="session")
def plugin_dir(rustyolo_bin):
    """lib/rustyolo of the build: plugins/ and rustyolo-dns-filter, as installed in the image."""
    path = os.path.join(os.path.dirname(os.path.dirname(rustyolo_bin)), "lib", "rustyolo")
    for need in ("plugins/net-nftables.so", "plugins/net-iptables.so", "rustyolo-dns-filter"):
        if not os.path.exists(os.path.join(path, need)):
            pytest.fail(f"{path}/{need} is missing: build the container part (RUSTYOLO_PARTS includes container)")
    return path


@pytest.fixture(scope="session")
def project_dir(workdir):
    path = os.path.join(workdir, "project")
    os.makedirs(path)
    os.chown(path, 1000, 1000)
    return path


@pytest.fixture(params=["cli", "harness"])
def runner(request):
    """Overridden with @pytest.mark.parametrize("runner", ["harness"]) by the cases the CLI cannot
    run hermetically."""
    return request.param


class SandboxFactory:
    def __init__(self, request, runner, testnet, rustyolo_bin, probes_dir, project_dir, workdir):
        self.request = request
        self.runner = runner
        self.net = testnet
        self.bin = rustyolo_bin
        self.probes = probes_dir
        self.project = project_dir
        self.workdir = workdir
        self.opened = []

    def cli_options(self, allow, dns, firewall="nftables", audit=None):
        options = ["--network", self.net.name, "--allow-lan", "--cpus", "1", "--memory", "1g", "--firewall", firewall]
        if audit is not None:
            options += ["--audit-log", audit]
        if dns is not None:
            options += ["--dns-servers", dns]
        if allow:
            options += ["--allow-domains", " ".join(allow)]
        return options

    def open(self, allow, dns="testdns", ipv6=False, firewall="nftables", audit=None):
        """A sandbox allowing `allow`. dns: "testdns" (--dns-servers <test DNS>), "engine" (no
        --dns-servers: Docker's 127.0.0.11, which forwards to the test DNS; harness only), "any".
        audit: the --audit-log level of the Plan (None: the default)."""
        if dns == "testdns":
            dns = self.net.dns_ip
        if self.runner == "cli":
            if dns in ("engine", "any") or ipv6:
                pytest.fail("internal: this case is harness-only (it would reach the host's resolvers)")
            image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
            if not netlib.image_exists(image):
                pytest.skip(f"the sandbox image {image} does not exist: build it with `rustyolo image build` "
                            "(the image suite) first")
            argv = [self.bin, *self.cli_options(allow, dns, firewall, audit), "--image", image,
                    "-v", f"{self.probes}:/probes:ro", "exec", "--", "/probes/netprobe", "-"]
            box = netlib.Sandbox(argv, None, self.net.name, self._stderr_path(), cwd=self.project)
        else:
            box = self._open_harness(allow, dns, ipv6, firewall, audit)
        self.opened.append(box)
        return box

    def _stderr_path(self):
        return os.path.join(self.workdir, f"sandbox-{netlib.token()}.stderr")

    def _open_harness(self, allow, dns, ipv6, firewall, audit=None):
        plugin_dir = self.request.getfixturevalue("plugin_dir")
        tools = self.request.getfixturevalue("tools_dir")
        plan_dns = None if dns == "engine" else dns
        plan = netlib.run([self.bin, *self.cli_options(allow, plan_dns, firewall, audit), "plan", "exec", "--",
                           "/probes/netprobe", "-"],
                          cwd=self.project).stdout
        json.loads(plan)  # it must be a Plan
        plan_path = os.path.join(self.workdir, f"plan-{netlib.token()}.json")
        with open(plan_path, "w") as f:
            f.write(plan)
        name = f"rytest-sbx-{netlib.token()}"
        argv = ["docker", "run", "--rm", "-i", "--name", name, "--label", netlib.TEST_LABEL, "--network", self.net.name,
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
        for cap in SUPERVISOR_CAPS:
            argv += ["--cap-add", cap]
        if dns in ("engine", "any"):
            argv += ["--dns", self.net.dns_ip]  # Docker's 127.0.0.11 forwards to the test DNS only
        if not ipv6:
            argv += ["--sysctl", "net.ipv6.conf.all.disable_ipv6=1", "--sysctl", "net.ipv6.conf.default.disable_ipv6=1"]
        argv += ["-v", f"{plugin_dir}:/usr/lib/rustyolo:ro", "-v", f"{tools}:/harness:ro",
                 "-v", f"{self.probes}:/probes:ro", "-v", f"{plan_path}:/run/plan.json:ro",
                 netlib.TESTHOST_IMAGE, "/harness/net-harness", f"/usr/lib/rustyolo/plugins/net-{firewall}.so",
                 "/run/plan.json", "1000", "1000", "/probes/netprobe", "-"]
        return netlib.Sandbox(argv, name, self.net.name, self._stderr_path())

    def close(self):
        for box in self.opened:
            box.close()


@pytest.fixture
def sandboxes(request, runner, testnet, rustyolo_bin, probes_dir, project_dir, workdir):
    factory = SandboxFactory(request, runner, testnet, rustyolo_bin, probes_dir, project_dir, workdir)
    yield factory
    factory.close()
