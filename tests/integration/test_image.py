"""The CLI refuses an image that is missing or does not understand its Plan schema, saying how to
build one, and starts nothing."""
import copy
import os
import shutil
import subprocess

DOCKER = os.environ.get("DOCKER") or shutil.which("docker") or "/usr/bin/docker"


def _with_image(runner, image):
    other = copy.copy(runner)
    other.image = image
    return other


def _assert_refused_before_start(run, *needles):
    assert run.rc == 1, run
    for needle in needles:
        assert needle in run.err, run
    assert not [c for c in run.docker_calls if c and c[0] in ("run", "create", "start")], run


def test_missing_image_is_refused_with_the_build_command(rustyolo_noimage, project):
    run = _with_image(rustyolo_noimage, "rustyolo-test-missing:none").run(
        ["exec", "--", "true"], cwd=project, probes=False)
    _assert_refused_before_start(run, "rustyolo-test-missing:none", "rustyolo image build")


def test_image_without_the_plan_schema_label_is_refused(rustyolo_noimage, project, image):
    # The Debian base image the sandbox image is built from carries no rustyolo label.
    parents = subprocess.run([DOCKER, "image", "inspect", "--format", "{{.Config.Labels}}", image],
                             capture_output=True, text=True, check=True)
    assert "org.rustyolo.plan-schema" in parents.stdout, "twin: the real image carries the label"
    unlabelled = "rustyolo-test-unlabelled:latest"
    base = os.environ.get("RUSTYOLO_BASE_IMAGE", "rustyolo-base:bookworm")  # scripts/test.sh sets it
    subprocess.run([DOCKER, "tag", base, unlabelled], check=True, capture_output=True)
    try:
        run = _with_image(rustyolo_noimage, unlabelled).run(["exec", "--", "true"], cwd=project, probes=False)
        _assert_refused_before_start(run, "Plan schema", "rustyolo image build")
    finally:
        subprocess.run([DOCKER, "rmi", unlabelled], capture_output=True)


def _labels(image):
    out = subprocess.run([DOCKER, "image", "inspect", "--format", "{{ json .Config.Labels }}", image],
                         capture_output=True, text=True, check=True).stdout
    import json
    return json.loads(out) or {}


def test_an_image_without_the_agent_names_the_command_that_adds_it(rustyolo_noimage, project, image):
    labels = _labels(image)
    assert "claude" in labels.get("org.rustyolo.agents", "").split("=")[0].split(","), \
        f"twin: the real image has claude: {labels}"
    # The same image, but its label says it was built with no agent.
    without = "rustyolo-test-noagents:latest"
    subprocess.run([DOCKER, "build", "--quiet", "--tag", without, "--label", "org.rustyolo.agents=", "-"],
                   input=f"FROM {image}\n", text=True, check=True, capture_output=True)
    try:
        run = _with_image(rustyolo_noimage, without).run(["claude", "--", "--version"], cwd=project, probes=False)
        command = f"rustyolo image build --tag {without}"
        if labels.get("org.rustyolo.base-image", "debian:bookworm-slim") != "debian:bookworm-slim":
            command += " --base-image " + labels["org.rustyolo.base-image"]
        _assert_refused_before_start(run, f"has no agent claude (it has: none)", command + " --agent claude`")
        # exec needs no agent of its own: the same image runs it.
        ok = _with_image(rustyolo_noimage, without).run(["exec", "--", "true"], cwd=project, probes=False)
        assert ok.rc == 0, ok
    finally:
        subprocess.run([DOCKER, "rmi", without], capture_output=True)


def test_the_image_records_its_agents_and_base(image):
    labels = _labels(image)
    agents = dict(part.partition("=")[::2] for part in labels["org.rustyolo.agents"].split(","))
    assert "claude" in agents, labels
    assert labels.get("org.rustyolo.base-image"), labels
