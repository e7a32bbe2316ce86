#!/usr/bin/env python3
"""rustyolo benchmarks. Not tests: they print ratios against a baseline measured in the same run.

    python3 tests/bench/bench.py [--runs N] [NAME ...]      NAME: dry-run startup agents dns firewall failfast audit

The baseline is the physical limit: a bare `docker run --rm --entrypoint true IMAGE` on the same
image.
Each measurement is the median of N runs by hyperfine. Commands are argv lists (no shell).
`startup` times the baseline and rustyolo alternately, one run of each per round, so that the
engine's drift during the run (its times wander by tens of milliseconds) falls on both sides of the
ratio alike; its baseline is printed beside it.
`agents` does the same per agent the image was built with (its org.rustyolo.agents label):
`rustyolo NAME -- --version` against `docker run --rm --entrypoint NAME IMAGE --version` (the agent's
program is named like the agent and found on the image's PATH, /opt/rustyolo/bin first).
`audit` (auditbench.py) compares --audit-log verbose with none (alternated like `startup`).
`dns` and `firewall` (netbench.py) measure the network plugin and the DNS filter on a hermetic Docker
network of their own; see that file for how. `failfast` (netbench.py too) measures inside a real
session how long a blocked connection and a refused name take to fail, against their allowed twins.
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUSTYOLO = os.environ.get("RUSTYOLO_BIN", os.path.join(ROOT, "build", "bin", "rustyolo"))
IMAGE = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
DOCKER = shutil.which("docker") or "/usr/bin/docker"
TWENTY_DOMAINS = " ".join(f"host{i}.example.test" for i in range(20))


def median_seconds(argv, runs, cwd=None, warmup=1, env=None):
    """Median wall time of `argv` over `runs` runs, measured by hyperfine (shell-free)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = ["hyperfine", "--style", "none", "--shell=none", "--runs", str(runs), "--warmup", str(warmup),
               "--export-json", out.name, shlex.join(argv)]
        subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, env=env)
        with open(out.name) as f:
            return statistics.median(json.load(f)["results"][0]["times"])


def paired_medians(baseline_argv, argv, runs, cwd=None, warmup=1, env=None):
    """Medians of `baseline_argv` and `argv` (seconds), run alternately: one of each per round."""
    def once(command):
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    for _ in range(warmup):
        once(baseline_argv)
        once(argv)
    base, subject = [], []
    for i in range(runs):
        # Alternate which goes first, so that neither always follows the other's teardown.
        if i % 2:
            subject.append(once(argv))
            base.append(once(baseline_argv))
        else:
            base.append(once(baseline_argv))
            subject.append(once(argv))
    return statistics.median(base), statistics.median(subject)


def project_dir(files=0):
    """A project dir owned by uid 1000 (the agent's uid when the benchmark runs as root)."""
    d = tempfile.mkdtemp(prefix="rustyolo-bench-")
    for i in range(files):
        sub = os.path.join(d, f"d{i // 1000}")
        if i % 1000 == 0:
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i}"), "w") as f:
            f.write("x")
    if os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(d):
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), 1000, 1000)
        os.lchown(d, 1000, 1000)
    return d


def report(name, value, baseline, target=None):
    ratio = value / baseline
    verdict = ""
    if target is not None:
        verdict = f"  target {target}: {'met' if ratio <= target else 'NOT met'}"
    print(f"{name:48s} {value * 1000:9.1f} ms  ratio {ratio:6.3f}{verdict}", flush=True)
    return ratio


def bench_dry_run(runs, baseline):
    proj = project_dir()
    try:
        t = median_seconds([RUSTYOLO, "--image", IMAGE, "--dry-run", "claude"], runs, cwd=proj)
        report("rustyolo --dry-run claude (all plugins)", t, baseline, 0.05)
    finally:
        shutil.rmtree(proj)


def bench_startup(runs, _baseline):
    small = project_dir()
    large = project_dir(files=100_000)
    bare = [DOCKER, "run", "--rm", "--entrypoint", "true", IMAGE]
    try:
        argv = [RUSTYOLO, "--image", IMAGE, "--allow-domains", TWENTY_DOMAINS, "exec", "--", "true"]
        base_small, t_small = paired_medians(bare, argv, runs, cwd=small)
        print(f"{'  its baseline, alternated with it':48s} {base_small * 1000:9.1f} ms", flush=True)
        report("start-up to agent exec, 20 domains", t_small, base_small, 1.3)
        base_large, t_large = paired_medians(bare, argv, runs, cwd=large)
        print(f"{'  its baseline, alternated with it':48s} {base_large * 1000:9.1f} ms", flush=True)
        report("start-up, 20 domains, 100k-file project", t_large, base_large, 1.3)
        print(f"{'  growth with 100k files (large / small)':48s} {t_large / t_small:6.3f}", flush=True)
    finally:
        shutil.rmtree(small)
        shutil.rmtree(large)


def image_agents():
    """The agents the image was built with, from its label ("name" or "name=version", comma-separated)."""
    out = subprocess.run([DOCKER, "image", "inspect", "--format", '{{ index .Config.Labels "org.rustyolo.agents" }}',
                          IMAGE], capture_output=True, text=True, check=True).stdout.strip()
    return [part.split("=", 1)[0] for part in out.split(",") if part]


def bench_agents(runs, _baseline):
    proj = project_dir()
    try:
        for agent in image_agents():
            bare = [DOCKER, "run", "--rm", "--entrypoint", agent, IMAGE, "--version"]
            if subprocess.run(bare, capture_output=True).returncode != 0:
                continue  # no program of that name (exec, shell): nothing to compare
            argv = [RUSTYOLO, "--image", IMAGE, agent, "--", "--version"]
            base, t = paired_medians(bare, argv, runs, cwd=proj)
            print(f"{'  its baseline: docker run ' + agent + ' --version':48s} {base * 1000:9.1f} ms", flush=True)
            report(f"rustyolo {agent} -- --version", t, base, 1.2)
    finally:
        shutil.rmtree(proj)


BENCHES = {"dry-run": bench_dry_run, "startup": bench_startup, "agents": bench_agents, "dns": None, "firewall": None, "failfast": None,
           "audit": None}
NETWORK_BENCHES = ("dns", "firewall", "failfast")  # tests/bench/netbench.py: own hermetic network, no docker-run baseline


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("names", nargs="*", help="benchmarks to run: " + ", ".join(BENCHES))
    args = parser.parse_args()
    names = args.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"bench: unknown benchmark(s) {unknown}; have {list(BENCHES)}")
    if subprocess.run([DOCKER, "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        sys.exit(f"bench: the image {IMAGE} does not exist; build it with `rustyolo image build`")
    container = [n for n in names if n not in NETWORK_BENCHES and n != "audit"]
    if container:
        # The image's entrypoint is the supervisor; the bare baseline runs `true` directly instead.
        baseline = median_seconds([DOCKER, "run", "--rm", "--entrypoint", "true", IMAGE], args.runs)
        print(f"{'baseline: docker run --rm ' + IMAGE + ' true':48s} {baseline * 1000:9.1f} ms  ratio  1.000",
              flush=True)
        for name in container:
            BENCHES[name](args.runs, baseline)
    if "audit" in names:
        import auditbench
        auditbench.run_benches(RUSTYOLO, IMAGE, args.runs, paired_medians)
    network = [n for n in names if n in NETWORK_BENCHES]
    if network:
        import netbench
        netbench.run_benches(network, RUSTYOLO, IMAGE)


if __name__ == "__main__":
    main()
