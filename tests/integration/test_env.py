"""Environment passing: variables that make programs load code, and RUSTYOLO_* variables, are
refused before anything starts; ordinary ones reach the agent as given; nothing else leaks from the
caller's environment."""

import pytest

REFUSED = [
    ("LD_PRELOAD=x", "LD_PRELOAD"),
    ("RUSTYOLO_X=1", "RUSTYOLO_X"),
]


@pytest.mark.parametrize("entry,named", REFUSED, ids=[r[1] for r in REFUSED])
def test_dangerous_variable_is_refused_before_anything_starts(entry, named, rustyolo_noimage, project, refused):
    run = rustyolo_noimage.run(["-e", entry, "exec", "--", "true"], cwd=project, probes=False)
    refused(run, named)


def _environment(run):
    return dict(line.split("=", 1) for line in run.out.split("\0") if "=" in line)


def test_variables_given_with_e_reach_the_agent(rustyolo, project):
    run = rustyolo.exec(["env", "-0"], cwd=project,
                        opts=["-e", "FOO=bar", "-e", "TRICKY=a b;$(touch /tmp/x)'\"", "-e", "RYTEST_FROM_HOST"],
                        env={"RYTEST_FROM_HOST": "host-value", "RYTEST_NOT_PASSED": "must-not-leak"})
    assert run.rc == 0, run
    env = _environment(run)
    assert env.get("FOO") == "bar", run
    assert env.get("TRICKY") == "a b;$(touch /tmp/x)'\"", run
    assert env.get("RYTEST_FROM_HOST") == "host-value", "-e NAME must pass the caller's value" + str(run)
    assert "RYTEST_NOT_PASSED" not in env, "a variable not named with -e leaked into the sandbox" + str(run)
    assert env.get("HOME") == "/home/agent", run
    assert not any(k.startswith("LD_") for k in env), run
