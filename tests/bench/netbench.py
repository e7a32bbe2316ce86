"""Network benchmarks for bench.py: `dns`, `firewall` and `failfast` (time to failure of a blocked
connection and a refused name inside a real session, against their allowed twins).

Both run the real network plugin and the real DNS filter of the sandbox image (RUSTYOLO_IMAGE,
/usr/lib/rustyolo/plugins/net-nftables.so and /usr/lib/rustyolo/rustyolo-dns-filter) under
net-harness (tests/integration/network/harness), a stand-in supervisor that calls the plugin's
install and self_test exactly as the entrypoint does (same capabilities: NET_ADMIN,
NET_BIND_SERVICE, SETUID, SETGID, SETPCAP) and times them. The filter is forked, dropped to uid
65533 and sandboxed by the plugin itself, and its answers go through the plugin's feeder thread
into the nft sets, with the ack, exactly as in a session.

Hermetic: one user-defined Docker network per run (created here, removed at the end), with the test
DNS host (dnsmasq, tests/testhosts). Every query goes to the filter inside the sandbox's network
namespace (127.0.0.1:53), which forwards only to that dnsmasq, or straight to that dnsmasq. dnsperf
is the host's (Debian), entered into a container's network namespace with nsenter, so both sides use
the same binary, the same query file and the same client settings. Everything created is labelled
org.rustyolo.test=1 and removed in a finally block.

RUSTYOLO_BENCH_LIB=<build>/lib/rustyolo mounts a build's plugins and filter over the image's (for
measuring a change before building an image); the header says so.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "network"))
import netlib  # noqa: E402

LABEL = netlib.TEST_LABEL
SUPERVISOR_CAPS = ["NET_ADMIN", "NET_BIND_SERVICE", "SETUID", "SETGID", "SETPCAP"]
PLUGIN = "/usr/lib/rustyolo/plugins/net-nftables.so"
DNSPERF = ["-c", "4", "-q", "100", "-t", "2"]  # the same client settings on both sides
DNS_SECONDS = 5
DNS_ROUNDS = 3
FIREWALL_RUNS = 5


def run(argv, check=True, timeout=120):
    return netlib.run(argv, check=check, timeout=timeout)


class BenchNet:
    """A hermetic Docker network with the test DNS server (dnsmasq, no query log) and a client box."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.id = netlib.token()
        self.name = f"rybench-net-{self.id}"
        self.containers = []
        self.v4 = None
        for v4, _ in netlib.SUBNET_CANDIDATES:
            r = netlib.docker("network", "create", "--label", LABEL, "--subnet", f"{v4}.0/24",
                              "--ip-range", f"{v4}.128/25", self.name, check=False)
            if r.returncode == 0:
                self.v4 = v4
                break
            if "overlap" not in r.stderr and "Pool overlaps" not in r.stderr:
                raise RuntimeError(f"docker network create failed: {r.stderr}")
        if not self.v4:
            raise RuntimeError("no free bench subnet")
        self.dns_ip = f"{self.v4}.53"
        conf_dir = os.path.join(workdir, "dns")
        os.makedirs(conf_dir)
        with open(os.path.join(conf_dir, "dnsmasq.conf"), "w") as f:
            f.write("\n".join([
                "no-resolv", "no-hosts", "addn-hosts=/etc/testdns/hosts", "local-ttl=1", "user=root",
                f"address=/wild.test/{self.v4}.21", f"address=/sub.allowed.test/{self.v4}.23",
                "cname=alias.test,target.test", "log-facility=-",
            ]) + "\n")
        with open(os.path.join(conf_dir, "hosts"), "w") as f:
            f.write(f"{self.v4}.20 allowed.test\n{self.v4}.26 target.test\n")
        self.start(f"rybench-dns-{self.id}", ["--ip", self.dns_ip, "-v", f"{conf_dir}:/etc/testdns:ro"],
                   netlib.TESTHOST_IMAGE, ["dnsmasq", "-k", "-C", "/etc/testdns/dnsmasq.conf"])
        self.client = f"rybench-client-{self.id}"
        self.start(self.client, [], netlib.TESTHOST_IMAGE, ["sleep", "900"])

    def start(self, name, args, image, command):
        netlib.docker("run", "-d", "--name", name, "--label", LABEL, "--network", self.name, *args, image, *command)
        self.containers.append(name)

    def close(self):
        for name in reversed(self.containers):
            netlib.docker("rm", "-f", name, check=False)
        netlib.docker("network", "rm", self.name, check=False)


def harness_argv(name, net, image, tools, plan_path, command, detach=False):
    argv = ["docker", "run", "--name", name, "--label", LABEL, "--network", net.name,
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--sysctl", "net.ipv6.conf.all.disable_ipv6=1", "--sysctl", "net.ipv6.conf.default.disable_ipv6=1"]
    argv += ["-d"] if detach else ["--rm"]
    for cap in SUPERVISOR_CAPS:
        argv += ["--cap-add", cap]
    if os.environ.get("RUSTYOLO_BENCH_LIB"):
        # A build's lib/rustyolo (plugins/ and rustyolo-dns-filter) in place of the image's own.
        argv += ["-v", f"{os.environ['RUSTYOLO_BENCH_LIB']}:/usr/lib/rustyolo:ro"]
    argv += ["-v", f"{tools}:/harness:ro", "-v", f"{plan_path}:/run/plan.json:ro", "--entrypoint", "/harness/net-harness",
             image, PLUGIN, "/run/plan.json", "1000", "1000", *command]
    return argv


def make_plan(rustyolo, image, net, allow, workdir, entries=None):
    """A Plan from the CLI for `allow`; `entries` (a list of allow entries) replaces its allow list."""
    project = os.path.join(workdir, "project")
    os.makedirs(project, exist_ok=True)
    plan = json.loads(subprocess.run(
        [rustyolo, "--image", image, "--network", net.name, "--allow-lan", "--dns-servers", net.dns_ip,
         "--allow-domains", " ".join(allow), "plan", "exec", "--", "true"],
        cwd=project, check=True, capture_output=True, text=True, timeout=60).stdout)
    if entries is not None:
        plan["network"]["allow"] = entries
    path = os.path.join(workdir, f"plan-{netlib.token()}.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    os.chmod(path, 0o644)
    return path


def allow_entries(n):
    """n allow entries: half names, half CIDRs (never contacted)."""
    names = n // 2
    out = []
    for i in range(names):
        out.append({"kind": "name", "value": f"n{i}.bench.test", "ports": [80, 443], "protocol": "tcp",
                    "reason": "bench"})
    for i in range(n - names):
        out.append({"kind": "cidr", "value": f"10.{i // 256}.{i % 256}.0/24", "ports": [80, 443], "protocol": "tcp",
                    "reason": "bench"})
    return out


def parse_ms(text, what):
    for line in text.splitlines():
        if line.startswith(what + " ("):
            return float(line.split("(", 1)[1].split(" ms", 1)[0])
    raise RuntimeError(f"no '{what}' time in the harness output:\n{text}")


def verdict(ok):
    return "met" if ok else "NOT met"


class Setup:
    def __init__(self, rustyolo, image):
        self.rustyolo = rustyolo
        self.image = image
        self.workdir = tempfile.mkdtemp(prefix="rybench-net-")
        os.chmod(self.workdir, 0o755)
        base = os.environ.get("RUSTYOLO_BASE_IMAGE") or (
            "rustyolo-base:bookworm" if netlib.image_exists("rustyolo-base:bookworm") else "debian:bookworm-slim")
        netlib.ensure_testhost_image(base)
        self.tools = os.path.join(self.workdir, "tools")
        os.makedirs(self.tools)
        netlib.build_harness(self.tools)
        os.chmod(self.tools, 0o755)
        self.net = BenchNet(self.workdir)
        self.extra = []  # containers of the benchmarks themselves

    def close(self):
        for name in self.extra:
            netlib.docker("rm", "-f", name, check=False)
        self.net.close()
        subprocess.run(["rm", "-rf", self.workdir], check=False)


def bench_firewall(setup):
    print("firewall: net-nftables install() and self_test() of the image's plugin under net-harness "
          f"({setup.image}); median of {FIREWALL_RUNS} fresh containers; entries = half names, half CIDRs", flush=True)
    for n, target_ms in ((10, None), (10_000, 100.0)):
        plan = make_plan(setup.rustyolo, setup.image, setup.net, ["allowed.test"], setup.workdir, allow_entries(n))
        installs, tests, phases = [], [], []
        for _ in range(FIREWALL_RUNS):
            name = f"rybench-fw-{netlib.token()}"
            setup.extra.append(name)
            r = run(harness_argv(name, setup.net, setup.image, setup.tools, plan, ["true"]), check=False, timeout=120)
            if r.returncode != 0:
                raise RuntimeError(f"harness failed ({r.returncode}):\n{r.stderr}")
            installs.append(parse_ms(r.stderr, "install"))
            tests.append(parse_ms(r.stderr, "self_test"))
            # The plugin's own breakdown of install (a debug log line), when it has one.
            phases.append(next((l.split("install timing: ", 1)[1] for l in r.stderr.splitlines()
                                if "install timing: " in l), None))
        install = statistics.median(installs)
        self_test = statistics.median(tests)
        if target_ms is None:
            line = "(no target)"
        else:
            line = f"target < {target_ms:.0f} ms: {verdict(install < target_ms)}"
        print(f"{f'firewall install, {n} entries':48s} {install:9.1f} ms  {line}", flush=True)
        median_run = sorted(range(len(installs)), key=lambda i: installs[i])[len(installs) // 2]
        if phases[median_run]:
            print(f"{'  its steps (the median run)':48s} {phases[median_run]}", flush=True)
        print(f"{f'firewall self_test, {n} entries':48s} {self_test:9.1f} ms  (reported separately, no target)",
              flush=True)


def write_queries(path):
    """The repeated-name query file: 64 names, each asked again and again (cache hits)."""
    names = ["allowed.test", "target.test", "sub.allowed.test", "alias.test"] + [f"h{i}.wild.test" for i in range(60)]
    with open(path, "w") as f:
        for name in names:
            f.write(f"{name} A\n")
    return ["allowed.test", "target.test", "sub.allowed.test", "alias.test", "*.wild.test"]


UNIQUE_NAMES = 400_000  # more than one 5 s run asks at the speeds seen here: every query is a new name


def write_unique_queries(path):
    """A query file of random, never repeated names under *.wild.test: every query is a cache miss."""
    with open(path, "w") as f:
        for _ in range(UNIQUE_NAMES // 8):
            f.write("".join(f"u{netlib.token()}{i}.wild.test A\n" for i in range(8)))
    os.chmod(path, 0o644)


def dnsperf_qps(pid, server, datafile):
    r = run(["nsenter", "-t", str(pid), "-n", "dnsperf", "-s", server, "-d", datafile, "-l", str(DNS_SECONDS),
             *DNSPERF], check=True, timeout=DNS_SECONDS + 30)
    qps = lost = codes = None
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("Queries per second:"):
            qps = float(line.split(":")[1])
        if line.startswith("Queries lost:"):
            lost = line.split(":", 1)[1].strip()
        if line.startswith("Response codes:"):
            codes = line.split(":", 1)[1].strip()
    if qps is None:
        raise RuntimeError("no dnsperf result:\n" + r.stdout + r.stderr)
    return qps, lost, codes


def bench_dns(setup):
    if os.environ.get("RUSTYOLO_BENCH_LIB"):
        print(f"(plugins and filter from RUSTYOLO_BENCH_LIB={os.environ['RUSTYOLO_BENCH_LIB']}, not the image's)")
    print(f"dns: dnsperf (host binary, nsenter into the container's network namespace; {' '.join(DNSPERF)}, "
          f"{DNS_SECONDS} s, {DNS_ROUNDS} alternating rounds, median) through the image's DNS filter "
          f"({setup.image}, under net-harness: real plugin, real filter, answers fed to the nft sets and "
          "acked) vs straight to the test dnsmasq from a plain container on the same network; "
          "same query file on both sides (A queries for allowed names)", flush=True)
    datafile = os.path.join(setup.workdir, "queries.txt")
    allow = write_queries(datafile)
    os.chmod(datafile, 0o644)
    plan = make_plan(setup.rustyolo, setup.image, setup.net, allow, setup.workdir)
    name = f"rybench-sbx-{netlib.token()}"
    setup.extra.append(name)
    run(harness_argv(name, setup.net, setup.image, setup.tools, plan, ["sleep", "600"], detach=True))
    deadline = time.time() + 60
    while True:
        logs = netlib.docker("logs", name, check=False)
        if "self_test (" in logs.stderr:
            break
        if time.time() > deadline or "net-harness:" in logs.stderr:
            raise RuntimeError("the sandbox did not come up:\n" + logs.stderr)
        time.sleep(0.2)
    sandbox_pid = netlib.container_pid(name)
    client_pid = netlib.container_pid(setup.net.client)

    def compare(label, files, target):
        """dnsperf straight to dnsmasq and through the filter, alternating, one query file per round."""
        direct, filtered = [], []
        for datafile in files:
            q, lost, codes = dnsperf_qps(client_pid, setup.net.dns_ip, datafile)
            direct.append(q)
            print(f"  round: direct {q:9.0f} q/s  lost {lost}  rcodes {codes}", flush=True)
            q, lost, codes = dnsperf_qps(sandbox_pid, "127.0.0.1", datafile)
            filtered.append(q)
            print(f"  round: filter {q:9.0f} q/s  lost {lost}  rcodes {codes}", flush=True)
        d = statistics.median(direct)
        f = statistics.median(filtered)
        ratio = f / d
        print(f"{'dns straight to the upstream (dnsmasq), ' + label:48s} {d:9.0f} q/s", flush=True)
        line = f"target >= {target}: {verdict(ratio >= target)}" if target else "(no target, cache misses)"
        print(f"{'dns through the filter, ' + label:48s} {f:9.0f} q/s  ratio {ratio:6.3f}  {line}", flush=True)

    print("repeated names (64 names asked again and again; the filter's cache answers most of them):",
          flush=True)
    compare("repeated names", [datafile] * DNS_ROUNDS, 0.8)
    print(f"unique names (a new random name under *.wild.test for every query, {UNIQUE_NAMES} per round, "
          "a fresh file per round: every query is a cache miss and goes upstream):", flush=True)
    unique = []
    for i in range(DNS_ROUNDS):
        path = os.path.join(setup.workdir, f"unique-{i}.txt")
        write_unique_queries(path)
        unique.append(path)
    compare("unique names", unique, None)
    logs = netlib.docker("logs", name, check=False).stderr
    errors = [l for l in logs.splitlines() if l.startswith("log[") and "error" in l.lower()]
    if errors:
        print("  harness log errors: " + " | ".join(errors[:5]), flush=True)


# Inside a real session (`rustyolo exec` with the image, on the bench network): Node measures, per
# round, a TCP connect to its own listener on 127.0.0.1 (allowed: the baseline), a connect to a
# host on the network on a port nothing allows (refused), a lookup of the allowed name and one of a
# fresh name that is not allowed (NXDOMAIN from the filter). Medians in ms; each refusal's outcome
# is checked too (a timeout would mean the refusal is gone).
FAILFAST_ROUNDS = 30
FAILFAST_SCRIPT = r"""
const net = require('net'), dns = require('dns');
const [blockedHost, allowedName, blockedSuffix, rounds] = process.argv.slice(1);
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const connect = (host, port) => new Promise((done) => {
  const t = process.hrtime.bigint(), s = net.connect({host, port});
  const end = (what) => { s.destroy(); done([what, ms(t)]); };
  s.on('connect', () => end('connected')); s.on('error', (e) => end(e.code));
  s.setTimeout(20000, () => end('timeout'));
});
const lookup = (name) => new Promise((done) => {
  const t = process.hrtime.bigint();
  dns.lookup(name, (e) => done([e ? e.code : 'resolved', ms(t)]));
});
(async () => {
  const server = net.createServer((c) => c.destroy()).listen(0, '127.0.0.1');
  await new Promise((r) => server.on('listening', r));
  const port = server.address().port, out = {local: [], blocked: [], allowed_lookup: [], refused_lookup: []};
  for (let i = 0; i < Number(rounds); i++) {
    out.local.push(await connect('127.0.0.1', port));
    out.blocked.push(await connect(blockedHost, 80));
    out.allowed_lookup.push(await lookup(allowedName));
    out.refused_lookup.push(await lookup(`r${i}-${process.pid}.${blockedSuffix}`));
  }
  server.close();
  console.log(JSON.stringify(out));
})();
"""


def bench_failfast(setup):
    print(f"failfast: time to failure inside a session ({setup.image}, Node), median of {FAILFAST_ROUNDS} rounds; "
          "ratio against the allowed twin of the same run", flush=True)
    project = os.path.join(setup.workdir, "project")
    os.makedirs(project, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(project, 1000, 1000)  # the agent's uid when the benchmark runs as root
    argv = [setup.rustyolo, "--image", setup.image, "--network", setup.net.name, "--allow-lan",
            "--dns-servers", setup.net.dns_ip, "--allow-domains", "allowed.test", "exec", "--",
            "node", "-e", FAILFAST_SCRIPT, setup.net.dns_ip, "allowed.test", "blocked.test", str(FAILFAST_ROUNDS)]
    r = subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"the failfast session failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    out = json.loads(lines[-1])

    def median(key, expected):
        outcomes = {what for what, _ in out[key]}
        note = "" if outcomes == {expected} else f"  outcomes {sorted(outcomes)}, expected {expected}: NOT as designed"
        return statistics.median(t for _, t in out[key]), note

    local, local_note = median("local", "connected")
    blocked, blocked_note = median("blocked", "ECONNREFUSED")
    allowed, allowed_note = median("allowed_lookup", "resolved")
    refused, refused_note = median("refused_lookup", "ENOTFOUND")
    print(f"{'  allowed connect to 127.0.0.1 (baseline)':48s} {local:9.2f} ms{local_note}", flush=True)
    print(f"{'blocked TCP connect: refused':48s} {blocked:9.2f} ms  ratio {blocked / local:7.2f}{blocked_note}",
          flush=True)
    print(f"{'  lookup of the allowed name (baseline)':48s} {allowed:9.2f} ms{allowed_note}", flush=True)
    print(f"{'lookup of a name not allowed: NXDOMAIN':48s} {refused:9.2f} ms  ratio {refused / allowed:7.2f}"
          f"{refused_note}", flush=True)


def run_benches(names, rustyolo, image):
    setup = Setup(rustyolo, image)
    try:
        for name in names:
            {"dns": bench_dns, "firewall": bench_firewall, "failfast": bench_failfast}[name](setup)
    finally:
        setup.close()
