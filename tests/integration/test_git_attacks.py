"""Attacks on the git-metadata protection found by a security review, each made with the image's real
git and shell and judged on the host by the real git run as the project's owner (uid 1000), as in
test_git_metadata.py. Each one worked before its fix; each has its twin (what the check can tell
apart: the same thing does what it should when it is not an attack)."""

import json
import os
import signal
import time
from pathlib import Path

import pytest

from test_git_metadata import (AGENT, FSMONITOR, GIT_ENV, MARKER, host_git, in_sandbox, make_repo, results,
                               try_line)


def wait_for(path: Path, proc, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the session ended before {path.name} appeared ({proc.returncode}):\n{out}\n{err}")
        assert time.time() < deadline, f"{path.name} did not appear within {timeout}s"
        time.sleep(0.05)


def audit_records(state: Path) -> list[dict]:
    records = []
    for audit_file in (state / "rustyolo" / "audit").glob("*.jsonl"):
        records += [json.loads(line) for line in audit_file.read_text().splitlines()]
    return records


# --- one entry that cannot be renamed stopped the whole end-of-session step ------------------------
#
# The aside name was "rustyolo-aside.<session>.<name>": a top-level name of 241 bytes made it longer
# than NAME_MAX, the rename failed, and the step stopped there, so what sorted after it stayed under
# the name git reads: here a `rebase-merge/` whose todo list `exec`s on the owner's
# `git rebase --continue` (which `git status` invites).

REBASE_MERGE = (
    "git rev-parse HEAD > /tmp/head\n"
    "mkdir .git/rebase-merge && (cd .git/rebase-merge && echo 'exec touch pwned-by-rebase' > git-rebase-todo "
    "&& : > interactive && echo refs/heads/main > head-name && cp /tmp/head onto && cp /tmp/head orig-head "
    "&& echo 1 > msgnum && echo 1 > end && : > done)\n"
)
LONG_NAME = "0" + "0" * 240


@pytest.mark.parametrize("blocker", ["", f"touch .git/{LONG_NAME}\n"], ids=["twin-alone", "long-name"])
def test_an_entry_that_cannot_be_renamed_does_not_keep_the_others_from_being_moved_aside(rustyolo, project,
                                                                                          tmp_path, blocker):
    make_repo(project)
    state = tmp_path / "state"
    state.mkdir()
    run = in_sandbox(rustyolo, project, GIT_ENV + blocker + REBASE_MERGE, env={"XDG_STATE_HOME": str(state)})
    assert run.rc == 0, run
    host_git(project, "rebase", "--continue", check=False)
    assert not (project / "pwned-by-rebase").exists(), f"the host's git ran the agent's rebase todo list:{run}"
    assert not (project / ".git/rebase-merge").exists(), f"rebase-merge was not moved aside:{run}"
    # twin: each entry is moved, kept, and reported under its own name
    moved = {r["details"]["source"]: r["details"]["moved_to"] for r in audit_records(state)
             if r["event"] == "git_moved_aside"}
    expected = [str(project / ".git/rebase-merge")] + ([str(project / ".git" / LONG_NAME)] if blocker else [])
    assert sorted(moved) == sorted(expected), f"{moved}:{run}"
    assert (Path(moved[str(project / ".git/rebase-merge")]) / "git-rebase-todo").exists(), moved
    for source in expected:
        assert source.removeprefix(str(project) + "/") in run.err, run
    assert not (project / ".git" / LONG_NAME).exists(), run

