"""Audit benchmark for bench.py: `audit`.

What audit costs, measured with the real CLI and the sandbox image (RUSTYOLO_IMAGE) on a hermetic
Docker network of its own (netlib.TestNet: the test DNS server and listeners; created here and
removed at the end), with --audit-log verbose as a ratio of --audit-log none:

- start-up: `rustyolo exec -- true`, medians of the two levels run alternately, target <= 1.05;
- the supervisor's own CPU time (all its threads: packet log reader, DNS feed, audit writer; it
  logs it at exit) for a session whose agent sends 20 000 blocked datagrams to a test host's address
  (they never leave the sandbox) and makes 200 DNS queries, half of them refused: no target, reported.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "network"))
import netlib  # noqa: E402

CPU_RUNS = 5
FLOOD = 20_000
CPU_LINE = re.compile(r"supervisor CPU time: (\d+) ms")


def run_benches(rustyolo, image, runs, paired_medians):
    workdir = tempfile.mkdtemp(prefix="rybench-audit-")
    os.chmod(workdir, 0o755)
    net = None
    try:
        base = os.environ.get("RUSTYOLO_BASE_IMAGE") or (
            "rustyolo-base:bookworm" if netlib.image_exists("rustyolo-base:bookworm") else "debian:bookworm-slim")
        netlib.ensure_testhost_image(base)
        probes = os.path.join(workdir, "probes")
        os.makedirs(probes)
        netlib.build_probe(probes)
        os.chmod(probes, 0o755)
        project = os.path.join(workdir, "project")
        os.makedirs(project)
        if os.geteuid() == 0:
            os.chown(project, 1000, 1000)
        net = netlib.TestNet(os.path.join(workdir, "net"), probes)
        state = os.path.join(workdir, "state")
        os.makedirs(state)
        env = dict(os.environ, XDG_STATE_HOME=state)

        def argv(level, *command):
            return [rustyolo, "--image", image, "--network", net.name, "--allow-lan", "--dns-servers", net.dns_ip,
                    "--allow-domains", "allowed.test", "--audit-log", level, "-v", f"{probes}:/probes:ro",
                    "--debug", "exec", "--", *command]

        print(f"audit: --audit-log verbose vs none, real CLI and image ({image}), hermetic network", flush=True)
        times = dict(zip(("none", "verbose"), paired_medians(argv("none", "true"), argv("verbose", "true"), runs,
                                                             cwd=project, env=env)))
        for level in ("none", "verbose"):
            print(f"{'start-up, audit ' + level:48s} {times[level] * 1000:9.1f} ms", flush=True)
        ratio = times["verbose"] / times["none"]
        print(f"{'start-up, verbose / none':48s} {'':12s} ratio {ratio:6.3f}  target <= 1.05: "
              f"{'met' if ratio <= 1.05 else 'NOT met'}", flush=True)

        script = ";".join([f"udpflood {net.ip(27)} 9999 {FLOOD}"] +
                          [f"dns 127.0.0.1 53 udp {'allowed.test' if i % 2 else f'n{i}.blocked.test'} A"
                           for i in range(200)])
        cpu = {}
        for level in ("none", "verbose"):
            samples = []
            for _ in range(CPU_RUNS):
                samples.append(supervisor_cpu_ms(argv(level, "/probes/netprobe", "-"), script, project, env))
            cpu[level] = statistics.median(samples)
            print(f"{'supervisor CPU, ' + level + f' ({FLOOD} blocked + 200 queries)':48s} {cpu[level]:9.0f} ms  "
                  f"(runs: {', '.join(str(s) for s in samples)})", flush=True)
        if cpu["none"] > 0:
            print(f"{'supervisor CPU, verbose / none':48s} {'':12s} ratio {cpu['verbose'] / cpu['none']:6.3f}  "
                  "(no target)", flush=True)
    finally:
        if net:
            net.close()
        shutil.rmtree(workdir, ignore_errors=True)


def supervisor_cpu_ms(argv, script, cwd, env):
    commands = "".join(line + "\n" for line in script.split(";")) + "exit\n"
    r = subprocess.run(argv, input=commands, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"the audit workload failed ({r.returncode}):\n{r.stderr[-3000:]}")
    found = CPU_LINE.findall(r.stderr)
    if not found:
        raise RuntimeError("the supervisor did not log its CPU time:\n" + r.stderr[-3000:])
    return int(found[-1])
