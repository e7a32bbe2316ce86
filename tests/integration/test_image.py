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
