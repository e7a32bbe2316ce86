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


# --- a project without .git became a bare repository at its top -----------------------------------
#
# The read-only empty `.git` kept a `.git` repository from appearing, but git's discovery, finding no
# repository in `.git`, takes the directory itself for a bare repository when it holds HEAD, objects/
# and refs/ (setup.c: is_git_directory on the directory; safe.bareRepository=all by default in 2.39).
# The agent writes them at /app's top with a config of its own; the owner's next git command in the
# project reads that config (core.fsmonitor, core.pager, core.sshCommand, aliases, ...).

BARE_CONFIG = ("[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n"
               f"\tfsmonitor = \"touch {MARKER}; false\"\n")


def test_a_project_without_git_does_not_become_a_bare_repository_at_its_top(rustyolo, project):
    script = GIT_ENV + (
        "git init -q --bare /tmp/b\n"
        + try_line("layout", "cp -r /tmp/b/HEAD /tmp/b/objects /tmp/b/refs /app/")
        + f"cat > /tmp/bare-config <<'EOF'\n{BARE_CONFIG}EOF\n"
        + try_line("config", "cp /tmp/bare-config /app/config")
        # twin: the agent's ordinary files, also the names objects/, refs/ and config, are its to write
        + try_line("file", "sh -c 'echo x > /app/notes.txt'")
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    got = results(run)
    assert got.get("file") == "ok" and got.get("config") == "ok", run
    host_git(project, "status", "--short", check=False)
    assert not (project / MARKER).exists(), \
        f"the project's top became a bare repository with the agent's config, and the host's git ran it:{run}"
    found = host_git(project, "rev-parse", "--absolute-git-dir", check=False)
    assert found.returncode != 0, f"the host's git takes the project for a repository: {found.stdout}:{run}"
    assert got.get("layout") == "fail", f"the agent could write HEAD at the project's top:{run}"
    assert not (project / "HEAD").exists(), "the HEAD placeholder is left on the host"


def test_a_spoiled_git_head_does_not_turn_the_top_into_a_bare_repository(rustyolo, project):
    make_repo(project)
    script = GIT_ENV + (
        "git init -q --bare /tmp/b\n"
        + try_line("spoil", "sh -c 'echo garbage > .git/HEAD'")
        + try_line("layout", "cp -r /tmp/b/HEAD /tmp/b/objects /tmp/b/refs /app/")
        + f"cat > /tmp/bare-config <<'EOF'\n{BARE_CONFIG}EOF\n"
        + "cp /tmp/bare-config /app/config\n"
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    found = host_git(project, "rev-parse", "--absolute-git-dir", check=False)
    assert found.stdout.strip() != str(project), f"the host's git takes the project's top for a bare repository:{run}"
    assert results(run).get("layout") == "fail", f"the agent could write HEAD at the project's top:{run}"


def test_a_project_whose_top_is_a_bare_repository_is_refused_with_the_reason(rustyolo, project):
    host_git(project, "init", "-q", "--bare", ".")
    run = rustyolo.exec(["true"], cwd=project)
    assert run.rc == 2 and run.sessions == {}, run
    assert "is itself a git dir" in run.err and str(project / "HEAD") in run.err, run
    # twin: the same project with a work tree's .git starts
    other = project / "work"
    other.mkdir()
    os.chown(other, *AGENT)
    make_repo(other)
    ok = rustyolo.exec(["true"], cwd=other)
    assert ok.rc == 0, ok


# --- the legacy remotes dir `branches/` that git init makes was writable ---------------------------
#
# Debian's git templates create `.git/branches/`. It existed at the start, so it was neither protected
# nor checked at the end. git reads `branches/<name>` ("URL#branch") as the definition of a remote that
# the config does not define: in a repository without `origin`, the owner's plain `git fetch` /
# `git pull` fetches (and merges) from where the agent says. `remotes/<name>` is the same.


def evil_remote(tmp_path: Path, name: str, subject: str) -> Path:
    repo = tmp_path / name
    repo.mkdir()
    os.chown(repo, *AGENT)
    make_repo(repo)
    host_git(repo, "commit", "-q", "--allow-empty", "-m", subject)
    return repo


@pytest.mark.parametrize("where", ["branches", "remotes"])
def test_the_agent_cannot_define_a_remote_in_the_legacy_branches_dir(rustyolo, project, tmp_path, where):
    evil = evil_remote(tmp_path, "evil", "agents-commit")
    make_repo(project)
    definition = f"{evil}#main" if where == "branches" else f"URL: {evil}\\nPull: refs/heads/main:refs/heads/x"
    script = (f"mkdir -p /app/.git/{where} 2>/dev/null\n"
              + try_line("define", f"sh -c 'printf \"{definition}\\n\" > /app/.git/{where}/origin'"))
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    host_git(project, "fetch", check=False)
    fetched = host_git(project, "log", "--format=%s", "FETCH_HEAD", check=False).stdout
    assert "agents-commit" not in fetched, f"the host's plain git fetch took the remote the agent defined:{run}"
    assert results(run).get("define") == "fail", run
    assert not (project / ".git" / where / "origin").exists(), run


def test_twin_the_owners_own_legacy_remote_is_fetched_and_stays(rustyolo, project, tmp_path):
    owners = evil_remote(tmp_path, "owners", "owners-commit")
    make_repo(project)
    (project / ".git/branches").mkdir(exist_ok=True)
    (project / ".git/branches/origin").write_text(f"{owners}#main\n")
    run = in_sandbox(rustyolo, project, "cat /app/.git/branches/origin")
    assert run.rc == 0 and str(owners) in run.out, run
    host_git(project, "fetch", check=False)
    fetched = host_git(project, "log", "--format=%s", "FETCH_HEAD", check=False).stdout
    assert "owners-commit" in fetched, f"the check cannot see a legacy remote being fetched:{run}"


# --- the gitfile of the owner's own submodule checkout was writable -------------------------------
#
# `.git/modules/sub/config` is read-only, but `sub/.git` ("gitdir: ../.git/modules/sub"), which tells
# git WHICH git dir the submodule uses, is an ordinary file of the work tree. The agent pointed it at
# a git dir of its own, hidden under `.git/logs/` (an allow-listed name: never moved aside, and no new
# `.git` directory or `.gitmodules` change for the owner to notice). The superproject's plain
# `git status` runs `git status` in every populated submodule: with the agent's config, so its
# core.fsmonitor ran on the host.


def make_repo_with_submodule(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    os.chown(other, *AGENT)
    make_repo(other)
    make_repo(project)
    host_git(project, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other), "sub")
    host_git(project, "commit", "-q", "-m", "submodule")
    assert (project / "sub/.git").read_text() == "gitdir: ../.git/modules/sub\n"


def test_rewriting_the_gitfile_of_a_submodule_does_not_give_the_hosts_git_status_the_agents_config(
        rustyolo, project, tmp_path):
    make_repo_with_submodule(project, tmp_path)
    script = GIT_ENV + (
        "E=.git/logs/evil && mkdir -p $E && cp -r .git/modules/sub/HEAD .git/modules/sub/objects "
        ".git/modules/sub/refs .git/modules/sub/packed-refs .git/modules/sub/index $E/ 2>/dev/null\n"
        f"printf '%s' '{FSMONITOR}' > $E/config\n"
        + try_line("gitfile", "sh -c 'echo gitdir: ../.git/logs/evil > sub/.git'")
        + try_line("gitfile_mv", "sh -c 'mv sub/.git sub/.git-old && echo gitdir: ../.git/logs/evil > sub/.git'")
        # twin: the agent's ordinary work in the submodule, with git, reaches the host
        + try_line("edit", "sh -c 'echo agent-edit >> sub/README.md'")
        + try_line("commit", "sh -c 'cd sub && git commit -q -am agent-sub-commit'")
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    got = results(run)
    assert got.get("edit") == "ok" and "agent-edit" in (project / "sub/README.md").read_text(), run
    assert got.get("commit") == "ok", f"git must keep working in the submodule inside:{run}"
    assert host_git(project / "sub", "log", "-1", "--format=%s").stdout.strip() == "agent-sub-commit", run
    host_git(project, "status", "--short", check=False)  # the owner's plain git status, at the top
    assert not (project / "sub" / MARKER).exists(), \
        f"the host's git status ran the agent's core.fsmonitor through the submodule's rewritten gitfile:{run}"
    assert got.get("gitfile") == "fail" and got.get("gitfile_mv") == "fail", \
        f"the agent could rewrite the submodule's gitfile sub/.git:{run}"
    assert (project / "sub/.git").read_text() == "gitdir: ../.git/modules/sub\n", run


def test_the_gitfile_of_a_linked_worktree_inside_the_project_is_read_only(rustyolo, project):
    make_repo(project)
    host_git(project, "worktree", "add", "-q", "-b", "wt", str(project / "trees/wt"))
    gitfile = project / "trees/wt/.git"
    before = gitfile.read_text()
    script = GIT_ENV + (
        try_line("gitfile", "sh -c 'echo gitdir: /app/.git/logs/evil > trees/wt/.git'")
        # twin: the worktree's ordinary files are the agent's to write
        + try_line("edit", "sh -c 'echo agent-edit >> trees/wt/README.md'")
    )
    run = in_sandbox(rustyolo, project, script)
    assert run.rc == 0, run
    got = results(run)
    assert got.get("edit") == "ok", run
    assert got.get("gitfile") == "fail" and gitfile.read_text() == before, \
        f"the agent could rewrite the linked worktree's gitfile:{run}"


# --- two registries for one project: the same user with and without XDG_RUNTIME_DIR ----------------
#
# The placeholder registry lived under the runtime dir, $XDG_RUNTIME_DIR/rustyolo when that is set
# and /tmp/rustyolo-<uid> otherwise. Two sessions of the same user on one project, one started from a
# shell with XDG_RUNTIME_DIR (a desktop terminal) and one without (su, sudo, ssh without pam_systemd,
# cron), did not see each other: the first one out removed the placeholders the other one mounted,
# the kernel detached that session's read-only mounts, and its agent wrote `.envrc` and
# `.git/hooks/pre-commit` on the host.


def test_the_same_user_with_and_without_xdg_runtime_dir_keeps_the_others_protection(rustyolo, project, tmp_path):
    make_repo(project)
    hooks = project / ".git/hooks"
    for p in sorted(hooks.iterdir()):
        p.unlink()
    hooks.rmdir()  # a repository without hooks/ (e.g. `git init --template=`): hooks/ is a placeholder
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    wait = "touch /app/{0}-started; while [ ! -e /app/{0}-go ]; do sleep 0.1; done; "
    a = rustyolo.popen(["exec", "--", "sh", "-c", wait.format("a")], cwd=project, env={"XDG_RUNTIME_DIR": str(xdg)})
    b = None
    try:
        wait_for(project / "a-started", a)
        attack = ("mkdir -p /app/.git/hooks 2>/dev/null; for f in .envrc .git/hooks/pre-commit; do "
                  "if sh -c \"echo 'touch pwned' > /app/$f\" 2>/dev/null; "
                  "then echo RESULT $f ok; else echo RESULT $f fail; fi; done")
        b = rustyolo.popen(["exec", "--", "sh", "-c", wait.format("b") + attack], cwd=project)
        wait_for(project / "b-started", b)
        (project / "a-go").touch()
        a_out, a_err = a.communicate(timeout=120)
        assert a.returncode == 0, f"A failed:\n{a_out}\n{a_err}"
        # twin of the docs' promise: what B mounts is still there after A
        (project / "b-go").touch()
        b_out, b_err = b.communicate(timeout=120)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
    assert b.returncode == 0, f"B failed:\n{b_out}\n{b_err}"
    assert "RESULT .envrc fail" in b_out and "RESULT .git/hooks/pre-commit fail" in b_out, \
        f"B's agent wrote protected files on the host after A ended:\n{b_out}\n{b_err}"
    assert not (project / ".git/hooks/pre-commit").exists() and \
        (not (project / ".envrc").exists() or (project / ".envrc").read_text() == ""), "B's writes are on the host"
    # and after both, the placeholders are gone: the last one out removed them
    assert not (project / ".envrc").exists() and not (project / ".git/hooks").exists()


# --- a killed CLI never moved aside what its agent added, and no later session did ----------------
#
# Placeholders of a SIGKILLed session were found by the next one (its record's flock is free); the
# git entries its agent added were not: the end-of-session step ran only in the CLI that started the
# session, and the next session's snapshot took them for the project's own.


@pytest.mark.kills_cli
def test_what_the_agent_of_a_killed_session_added_to_git_is_moved_aside_by_the_next_session(
        rustyolo, docker, project, tmp_path):
    make_repo(project)
    a = rustyolo.popen(["exec", "--", "bash", "-c", GIT_ENV + REBASE_MERGE
                        + "echo x > .git/ORIG_HEAD; touch /app/a-ready; sleep 60"], cwd=project)
    wait_for(project / "a-ready", a)
    names = list(a.sessions().values())
    killed = list(a.sessions().keys())
    os.killpg(a.pid, signal.SIGKILL)
    a.communicate()
    for name in names:
        assert docker.wait_gone(name, 30), f"A's container {name} outlived its CLI"
    state = tmp_path / "state"
    state.mkdir()
    run = in_sandbox(rustyolo, project, "ls /app/.git", env={"XDG_STATE_HOME": str(state)})
    assert run.rc == 0, run
    host_git(project, "rebase", "--continue", check=False)
    assert not (project / "pwned-by-rebase").exists(), f"the host's git ran the killed session's rebase todo:{run}"
    assert not (project / ".git/rebase-merge").exists(), run
    assert "rebase-merge" not in run.out.split(), f"the next session's agent still saw it:{run}"
    # twin: moved under the killed session's id, reported and audited by the session that did it;
    # what is on the allow-list stays
    assert len(killed) == 1, killed
    assert f"rustyolo-aside.{killed[0]}." in run.err and "killed" in run.err, run
    records = [r for r in audit_records(state) if r["event"] == "git_moved_aside"]
    assert [r["details"]["source"] for r in records] == [str(project / ".git/rebase-merge")], records
    assert records[0]["details"]["added_by_session"] == killed[0], records
    assert (Path(records[0]["details"]["moved_to"]) / "git-rebase-todo").exists(), records
    assert (project / ".git/ORIG_HEAD").read_text() == "x\n"
