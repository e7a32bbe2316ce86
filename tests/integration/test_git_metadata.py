"""Git metadata is code: nothing the agent writes in the project's git dirs may become configuration
that the host's git reads, or a hook it runs (docs/security-model.md, "Git metadata").

The attacks are the real ones, made with the image's real git and shell, and judged on the host by
the real git: after the session the project's owner runs `git status` (as the owner, uid 1000), and
a `core.fsmonitor` command the agent planted would create a marker file. Every attack has its twin:
the same marker is created when the configuration is the owner's own (so the check can fail), and
git keeps working inside the sandbox (the agent can commit; the host sees the commit)."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

AGENT = (1000, 1000)
MARKER = "pwned-by-fsmonitor"
# What a planted core.fsmonitor runs (git runs it with the work tree as its directory).
FSMONITOR = f"[core]\n\tfsmonitor = \"touch {MARKER}; false\"\n"


def traversable(path: Path) -> None:
    """Lets uid 1000 reach `path` through pytest's private (0700) temporary dirs."""
    for parent in reversed(path.parents):
        if str(parent).startswith(tempfile.gettempdir() + "/") and parent.owner() == "root":
            parent.chmod(parent.stat().st_mode | 0o111)


def host_git(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """git as the project's owner on the host (uid 1000), with an empty global config."""
    traversable(project)
    home = project.parent / "owner-home"
    home.mkdir(exist_ok=True)
    os.chown(home, *AGENT)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    done = subprocess.run(["git", *args], cwd=project, env=env, user=AGENT[0], group=AGENT[1],
                          capture_output=True, text=True, timeout=60)
    if check:
        assert done.returncode == 0, f"host git {args} failed: {done.stderr}"
    return done


def make_repo(project: Path) -> None:
    host_git(project, "init", "-q", "-b", "main")
    host_git(project, "config", "user.email", "owner@example.test")
    host_git(project, "config", "user.name", "owner")
    (project / "README.md").write_text("readme\n")
    os.chown(project / "README.md", *AGENT)
    host_git(project, "add", "README.md")
    host_git(project, "commit", "-q", "-m", "first")


def in_sandbox(rustyolo, project: Path, script: str, **kw):
    """Runs a shell script as the agent, with the image's git."""
    run = rustyolo.exec(["bash", "-c", script], cwd=project, **kw)
    return run


def results(run) -> dict[str, str]:
    """Lines "RESULT name ok|fail" printed by the scripts below."""
    out = {}
    for line in run.out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            out[parts[1]] = parts[2]
    return out


def try_line(name: str, command: str) -> str:
    return f"if {command} 2>/dev/null; then echo RESULT {name} ok; else echo RESULT {name} fail; fi\n"


# Every script starts here: git's identity, and the planted configuration in /tmp/evil-config.
GIT_ENV = ("export HOME=/tmp GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=a@example.test "
           "GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=a@example.test\n"
           f"cat > /tmp/evil-config <<'EOF'\n{FSMONITOR}EOF\ncd /app\n")


# --- the marker check can fail: the owner's own fsmonitor does run ---------------------------------


def test_twin_a_fsmonitor_in_the_owners_own_config_does_run_on_the_host(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    os.chown(project, *AGENT)
    make_repo(project)
    host_git(project, "config", "core.fsmonitor", f"touch {MARKER}; false")
    host_git(project, "status", "--short", check=False)
    assert (project / MARKER).exists(), "the marker check cannot see an fsmonitor run"


# --- commondir: configuration from a directory the agent writes ------------------------------------


def test_commondir_cannot_point_git_at_a_config_the_agent_wrote(rustyolo, project):
    make_repo(project)
    script = GIT_ENV + (
        "mkdir -p /app/evil && cp -r .git/objects .git/refs .git/HEAD /app/evil/ 2>/dev/null\n"
        "cp /tmp/evil-config /app/evil/config\n"
        + try_line("commondir", "sh -c 'echo ../evil > .git/commondir'")
        + try_line("config", "sh -c 'cat /tmp/evil-config >> .git/config'")
        + try_line("config_worktree", "sh -c 'echo x > .git/config.worktree'")
        + try_line("hook", "sh -c 'printf \"#!/bin/sh\\ntouch pwned-by-hook\\n\" > .git/hooks/post-checkout'")
        + try_line("attributes", "sh -c 'echo \"* filter=evil\" > .git/info/attributes'")
        + try_line("alternates", "sh -c 'echo /app/evil/objects > .git/objects/info/alternates'")
        # twin: git still records work, with its lock-and-rename writes at the top of .git
        + "echo work > work.txt\n"
        + try_line("commit", "sh -c 'git add work.txt && git commit -q -m agent-commit'")
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    got = results(run)
    for name in ("commondir", "config", "config_worktree", "hook", "attributes", "alternates"):
        assert got.get(name) == "fail", f"the agent could write .git's {name}:{run}"
    assert got.get("commit") == "ok", f"git must keep working inside:{run}"

    log = host_git(project, "log", "--format=%s").stdout.split()
    assert log[0] == "agent-commit", f"the host does not see the agent's commit: {log}"
    host_git(project, "status", "--short", check=False)
    assert not (project / MARKER).exists(), f"the host's git ran the agent's fsmonitor:{run}"
    assert not (project / ".git" / "commondir").exists(), "the commondir placeholder was left behind"
    assert not (project / ".git" / "config.worktree").exists(), "a placeholder was left behind"


def test_a_project_without_git_does_not_become_a_repository_the_agent_configured(rustyolo, project):
    script = GIT_ENV + (
        try_line("init", "git init -q /app")
        + try_line("mkdir_objects", "mkdir /app/.git/objects")
        + try_line("head", "sh -c 'echo ref: refs/heads/main > /app/.git/HEAD'")
        + try_line("rename", "mv /app/.git /app/git-moved")
        # twin: a repository elsewhere in the project is the agent's to make (a documented residual risk)
        + try_line("init_sub", "git init -q /app/sub")
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    got = results(run)
    for name in ("init", "mkdir_objects", "head", "rename"):
        assert got.get(name) == "fail", f"{name} succeeded in a project without .git:{run}"
    assert got.get("init_sub") == "ok", run
    assert not (project / ".git").exists(), f"the project ends the session with a .git:{run}"


def test_submodule_and_worktree_git_dirs_are_protected_too(rustyolo, project, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    os.chown(other, *AGENT)
    make_repo(other)
    make_repo(project)
    host_git(project, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other), "sub")
    host_git(project, "commit", "-q", "-m", "submodule")
    worktrees = tmp_path / "worktrees"
    worktrees.mkdir()
    os.chown(worktrees, *AGENT)
    host_git(project, "worktree", "add", "-q", str(worktrees / "wt"))
    assert (project / ".git/modules/sub/config").exists() and (project / ".git/worktrees/wt/commondir").exists()
    script = GIT_ENV + (
        try_line("module_config", "sh -c 'cat /tmp/evil-config >> .git/modules/sub/config'")
        + try_line("module_hook", "sh -c 'echo x > .git/modules/sub/hooks/post-checkout'")
        + try_line("module_commondir", "sh -c 'echo ../../../evil > .git/modules/sub/commondir'")
        + try_line("worktree_commondir", "sh -c 'echo ../../../evil > .git/worktrees/wt/commondir'")
        + try_line("worktree_config", "sh -c 'echo x > .git/worktrees/wt/config.worktree'")
        + try_line("worktree_gitdir", "sh -c 'echo /tmp > .git/worktrees/wt/gitdir'")
        + try_line("rename_modules", "mv .git/modules .git/modules-moved")
        # twins: the submodule's and the worktree's git dirs still record work
        + try_line("module_fetch_head", "sh -c 'echo x > .git/modules/sub/FETCH_HEAD'")
        + try_line("worktree_head", "sh -c 'cat .git/worktrees/wt/HEAD > .git/worktrees/wt/ORIG_HEAD'")
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    got = results(run)
    for name in ("module_config", "module_hook", "module_commondir", "worktree_commondir", "worktree_config",
                 "worktree_gitdir", "rename_modules"):
        assert got.get(name) == "fail", f"the agent could change {name}:{run}"
    assert got.get("module_fetch_head") == "ok" and got.get("worktree_head") == "ok", run
    host_git(project, "status", "--short", check=False)
    assert not (project / MARKER).exists(), run
    assert not (project / "sub" / MARKER).exists(), run


def test_new_entries_git_could_read_are_moved_aside_reported_and_audited(rustyolo, project, tmp_path):
    make_repo(project)
    (project / ".git" / "owners-own").write_text("kept\n")
    state = tmp_path / "state"
    state.mkdir()
    script = GIT_ENV + (
        "mkdir -p .git/rebase-merge && echo 'exec touch pwned-by-rebase' > .git/rebase-merge/git-rebase-todo\n"
        "mkdir -p .git/modules/evil && cp -r .git/objects .git/refs .git/HEAD .git/modules/evil/ "
        "&& cp /tmp/evil-config .git/modules/evil/config\n"
        "echo x > .git/ORIG_HEAD\n"  # twin: on the allow-list, stays
    )
    run = in_sandbox(rustyolo, project, script, env={"XDG_STATE_HOME": str(state)})
    assert run.rc == 0, run
    git = project / ".git"
    names = sorted(os.listdir(git))
    assert "rebase-merge" not in names and "modules" not in names, f"left in .git: {names}:{run}"
    aside = [n for n in names if n.startswith("rustyolo-aside.")]
    assert len(aside) == 2, names
    assert (git / "ORIG_HEAD").read_text() == "x\n"
    assert (git / "owners-own").read_text() == "kept\n"
    assert "rebase-merge" in run.err and "moved aside" in run.err, run
    (audit_file,) = (state / "rustyolo" / "audit").glob("*.jsonl")
    records = [json.loads(line) for line in audit_file.read_text().splitlines()]
    moved = {r["details"]["source"]: r["details"]["moved_to"] for r in records if r["event"] == "git_moved_aside"}
    assert sorted(moved) == [str(git / "modules"), str(git / "rebase-merge")], records
    # nothing is lost: the todo list is where the record says
    assert (Path(moved[str(git / "rebase-merge")]) / "git-rebase-todo").exists(), records
    assert sorted(Path(p).name for p in moved.values()) == sorted(aside), records
