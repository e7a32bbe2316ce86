"""The real agent in the full sandbox (firewall, seccomp, dropped privileges): Claude Code answers
--version and --help. And the claude profile's own protected paths (.claude/settings.json,
.claude/settings.local.json, .mcp.json) are read-only, checked with a stand-in executable named
`claude` (tests/probes/fswrite.c) found first on the agent's PATH, so the session is exactly the
claude profile's."""

import os
import re
from pathlib import Path


VERSION = re.compile(r"^\d+\.\d+\.\d+ \(Claude Code\)$", re.M)
STAND_IN_PATH = "PATH=/probes/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WRITE_FAILS = {"EROFS", "EACCES"}
REMOVE_FAILS = {"EROFS", "EACCES", "EBUSY", "EPERM"}

CLAUDE_FILES = {
    ".claude/settings.json": '{"hooks": {}}\n',
    ".claude/settings.local.json": '{"permissions": {}}\n',
    ".mcp.json": '{"mcpServers": {}}\n',
}


def test_claude_version_from_inside_the_full_sandbox(rustyolo, project):
    run = rustyolo.run(["claude", "--", "--version"], cwd=project, probes=False)
    assert run.rc == 0, run
    assert VERSION.search(run.out), f"no Claude Code version in the output:{run}"


def test_claude_help_works(rustyolo, project):
    run = rustyolo.run(["claude", "--", "--help"], cwd=project, probes=False)
    assert run.rc == 0, run
    assert "Usage:" in run.out and "claude" in run.out, run


def stand_in(rustyolo, project, ops):
    run = rustyolo.run(["-e", STAND_IN_PATH, "-e", "FSWRITE_OPS=" + " ".join(ops), "claude", "--", "--version"],
                       cwd=project)
    assert run.rc == 0, run
    assert run.lines() and run.lines()[-1] == "done", (
        f"the stand-in /probes/bin/claude did not run (the agent's PATH was not used to find `claude`?):{run}")
    return run.fswrite(), run




EXISTING_OPS = [
    ("write:/app/.claude/settings.json", WRITE_FAILS),
    ("write:/app/.claude/settings.local.json", WRITE_FAILS),
    ("write:/app/.mcp.json", WRITE_FAILS),
    ("unlink:/app/.mcp.json", REMOVE_FAILS),
    ("rename:/app/.claude/settings.json:/app/.claude/moved.json", REMOVE_FAILS),
    ("create:/app/.claude/notes.md", "OK"),  # twin: the rest of .claude is the agent's
]


def test_claude_protected_files_are_read_only(rustyolo, project, project_files):
    project_files(project, CLAUDE_FILES)
    results, run = stand_in(rustyolo, project, [op for op, _ in EXISTING_OPS])
    for op, allowed in EXISTING_OPS:
        key = ":".join(op.split(":")[:2])
        if allowed == "OK":
            assert results.get(key) == "OK", f"{op}: {results.get(key)}:{run}"
        else:
            assert results.get(key) in allowed, f"{op}: {results.get(key)}:{run}"
    for rel, content in CLAUDE_FILES.items():
        assert (project / rel).read_text() == content, f"{rel} changed on the host:{run}"


def test_claude_protected_files_that_did_not_exist_are_read_only_and_cleaned_up(rustyolo, project):
    results, run = stand_in(rustyolo, project, ["write:/app/.claude/settings.json",
                                                "write:/app/.claude/settings.local.json", "write:/app/.mcp.json"])
    for key in ("write:/app/.claude/settings.json", "write:/app/.claude/settings.local.json",
                "write:/app/.mcp.json"):
        assert results.get(key) in WRITE_FAILS, f"{key}: {results.get(key)}:{run}"
    assert os.listdir(project) == [], f"left in the project: {os.listdir(project)}:{run}"


def test_renaming_dot_claude_cannot_replace_the_settings(rustyolo, project, project_files):
    """Claude Code on the host runs hooks from .claude/settings.json: moving .claude aside and
    writing a new one must not change what the host reads there."""
    project_files(project, CLAUDE_FILES)
    _, run = stand_in(rustyolo, project, ["rename:/app/.claude:/app/.claude-moved", "mkdir:/app/.claude",
                                          "create:/app/.claude/settings.json"])
    assert (project / ".claude/settings.json").read_text() == CLAUDE_FILES[".claude/settings.json"], (
        f"the host's .claude/settings.json now has the agent's content (it renamed .claude away):{run}")
