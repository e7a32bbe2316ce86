"""The project inside the sandbox: files the host later executes or reads are read-only (also when
they did not exist: empty placeholders, removed afterwards); files the agent creates belong to the
agent's uid on the host; host files keep their owner (rustyolo chowns nothing).

Every failed write is checked twice: the errno inside, and the host file unchanged afterwards. The
twin: ordinary project files are writable in the same session."""

import os
import stat
from pathlib import Path

import pytest

AGENT = (1000, 1000)
WRITE_FAILS = {"EROFS", "EACCES"}
REMOVE_FAILS = {"EROFS", "EACCES", "EBUSY", "EPERM"}

# What a user's project holds, all owned by the user (1000), so only the sandbox can stop a write.
EXISTING = {
    ".git/hooks/pre-commit": "#!/bin/sh\necho original hook\n",
    ".git/config": "[core]\n\trepositoryformatversion = 0\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".rustyolo.toml": "# original project config\n",
    ".envrc": "export ORIGINAL=1\n",
    ".vscode/settings.json": "{}\n",
    ".idea/workspace.xml": "<project/>\n",
    "README.md": "readme\n",
}
PROTECTED_FILES = [".git/hooks/pre-commit", ".git/config", ".rustyolo.toml", ".envrc", ".vscode/settings.json",
                   ".idea/workspace.xml"]

# (operation for tests/probes/fswrite.c, the results that count as refused, or "OK" for a twin)
EXISTING_OPS = [
    ("write:/app/.git/hooks/pre-commit", WRITE_FAILS),
    ("create:/app/.git/hooks/post-checkout", WRITE_FAILS),
    ("chmod:/app/.git/hooks/pre-commit", WRITE_FAILS),
    ("unlink:/app/.git/hooks/pre-commit", REMOVE_FAILS),
    ("rename:/app/.git/hooks:/app/.git/hooks-moved", REMOVE_FAILS),
    ("write:/app/.git/config", WRITE_FAILS),
    ("unlink:/app/.git/config", REMOVE_FAILS),
    ("rename:/app/.git/config:/app/.git/config-moved", REMOVE_FAILS),
    ("write:/app/.rustyolo.toml", WRITE_FAILS),
    ("unlink:/app/.rustyolo.toml", REMOVE_FAILS),
    ("write:/app/.envrc", WRITE_FAILS),
    ("rename:/app/.envrc:/app/envrc-moved", REMOVE_FAILS),
    ("write:/app/.vscode/settings.json", WRITE_FAILS),
    ("create:/app/.vscode/tasks.json", WRITE_FAILS),
    ("rename:/app/.vscode:/app/vscode-moved", REMOVE_FAILS),
    ("write:/app/.idea/workspace.xml", WRITE_FAILS),
    ("create:/app/.idea/new.xml", WRITE_FAILS),
    # twins: the rest of the project is the agent's to change
    ("write:/app/README.md", "OK"),
    ("write:/app/.git/HEAD", "OK"),
    ("create:/app/agent-made.txt", "OK"),
]

MISSING_OPS = [
    # no .git: a read-only empty .git, so that no repository can be made at the top
    ("create:/app/.git/config", WRITE_FAILS),
    ("mkdir:/app/.git/hooks", WRITE_FAILS),
    ("create:/app/.git/HEAD", WRITE_FAILS),
    ("write:/app/.rustyolo.toml", WRITE_FAILS),
    ("write:/app/.envrc", WRITE_FAILS),
    ("create:/app/.vscode/settings.json", WRITE_FAILS),
    ("mkdir:/app/.vscode/sub", WRITE_FAILS),
    ("create:/app/.idea/workspace.xml", WRITE_FAILS),
    ("create:/app/agent-made.txt", "OK"),
]


def populate(project: Path, files: dict[str, str], owner=AGENT) -> None:
    for rel, content in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        if rel.startswith(".git/hooks/"):
            path.chmod(0o755)
    for root, dirs, names in os.walk(project):
        for name in dirs + names:
            os.lchown(os.path.join(root, name), *owner)


def snapshot(project: Path) -> dict[str, tuple]:
    """Every path under the project -> (type, content, mode, uid, gid)."""
    out = {}
    for root, dirs, names in os.walk(project):
        for name in dirs + names:
            path = Path(root) / name
            st = path.lstat()
            content = path.read_text() if stat.S_ISREG(st.st_mode) else None
            out[str(path.relative_to(project))] = (stat.S_IFMT(st.st_mode), content, stat.S_IMODE(st.st_mode),
                                                   st.st_uid, st.st_gid)
    return out


def results_by_op(run) -> dict[str, str]:
    """fswrite's "op path RESULT" lines -> {"op:path": RESULT}."""
    out = {}
    for line in run.lines():
        parts = line.split()
        if len(parts) == 3:
            out[f"{parts[0]}:{parts[1]}"] = parts[2]
    return out


def op_key(op: str) -> str:
    kind, path = op.split(":")[:2]
    return f"{kind}:{path}"


# --- protected paths that exist ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def existing_session(rustyolo, project_factory):
    project = project_factory("protected-existing")
    populate(project, EXISTING)
    before = snapshot(project)
    run = rustyolo.exec(["/probes/fswrite64", *[op for op, _ in EXISTING_OPS]], cwd=project)
    assert run.rc == 0 and "done" in run.out, run
    return project, before, snapshot(project), results_by_op(run), run


@pytest.mark.parametrize("op,allowed", EXISTING_OPS, ids=[op for op, _ in EXISTING_OPS])
def test_existing_protected_path_is_read_only_inside(existing_session, op, allowed):
    _, _, _, results, run = existing_session
    got = results.get(op_key(op))
    if allowed == "OK":
        assert got == "OK", f"{op}: {got} (an ordinary project file must stay writable):{run}"
    else:
        assert got in allowed, f"{op}: {got}, expected one of {sorted(allowed)}:{run}"


@pytest.mark.parametrize("rel", PROTECTED_FILES)
def test_existing_protected_file_is_unchanged_on_the_host(existing_session, rel):
    project, before, after, _, run = existing_session
    assert after.get(rel) == before[rel], f"{rel} changed on the host: {before[rel]} -> {after.get(rel)}:{run}"
    assert (project / rel).read_text() == EXISTING[rel]


def test_existing_protected_dirs_gained_nothing_on_the_host(existing_session):
    project, before, after, _, run = existing_session
    protected_prefixes = (".git/hooks/", ".vscode/", ".idea/")
    new = sorted(p for p in set(after) - set(before) if p.startswith(protected_prefixes))
    assert not new, f"new files in protected dirs on the host: {new}:{run}"
    assert not (project / "envrc-moved").exists() and not (project / "vscode-moved").exists()


def test_twin_ordinary_files_were_changed_on_the_host(existing_session):
    project, _, _, _, run = existing_session
    assert (project / "README.md").read_text() == "pwned\n", run
    assert (project / ".git/HEAD").read_text() == "pwned\n", run
    assert (project / "agent-made.txt").read_text() == "pwned\n", run


# --- protected paths that did not exist --------------------------------------------------------------


@pytest.fixture(scope="module")
def missing_session(rustyolo, project_factory):
    project = project_factory("protected-missing")
    run = rustyolo.exec(["/probes/fswrite64", *[op for op, _ in MISSING_OPS]], cwd=project)
    assert run.rc == 0 and "done" in run.out, run
    return project, results_by_op(run), run


@pytest.mark.parametrize("op,allowed", MISSING_OPS, ids=[op for op, _ in MISSING_OPS])
def test_missing_protected_path_is_read_only_inside(missing_session, op, allowed):
    _, results, run = missing_session
    got = results.get(op_key(op))
    if allowed == "OK":
        assert got == "OK", f"{op}: {got}:{run}"
    else:
        assert got in allowed, f"{op}: {got}, expected one of {sorted(allowed)}:{run}"


def test_placeholders_are_gone_from_the_host_afterwards(missing_session):
    project, _, run = missing_session
    assert sorted(os.listdir(project)) == ["agent-made.txt"], (
        f"after the session the project holds {sorted(os.listdir(project))}; placeholders must be removed:{run}")


# --- ownership ------------------------------------------------------------------------------------


def test_agent_files_belong_to_the_agent_and_host_files_keep_their_owner(rustyolo, project):
    (project / "root-file").write_text("root\n")
    os.chown(project / "root-file", 0, 0)
    (project / "other-file").write_text("other\n")
    os.chown(project / "other-file", 1234, 1234)
    (project / "other-dir").mkdir()
    (project / "other-dir" / "nested").write_text("nested\n")
    for p in (project / "other-dir", project / "other-dir" / "nested"):
        os.chown(p, 1234, 1234)
    (project / "user-file").write_text("user\n")
    os.chown(project / "user-file", *AGENT)
    before = snapshot(project)
    project_owner = (project.stat().st_uid, project.stat().st_gid)

    run = rustyolo.exec(["/probes/fswrite64", "create:/app/agent-file", "mkdir:/app/agent-dir",
                         "write:/app/user-file", "write:/app/root-file"], cwd=project)
    assert run.rc == 0, run
    results = results_by_op(run)
    assert results.get("create:/app/agent-file") == "OK", run
    assert results.get("mkdir:/app/agent-dir") == "OK", run
    assert results.get("write:/app/user-file") == "OK", run
    assert results.get("write:/app/root-file") == "EACCES", f"the agent must not have root's rights:{run}"

    for rel in ("agent-file", "agent-dir"):
        st = (project / rel).lstat()
        assert (st.st_uid, st.st_gid) == AGENT, f"{rel} belongs to {st.st_uid}:{st.st_gid} on the host"
    after = snapshot(project)
    for rel, (kind, _, mode, uid, gid) in before.items():
        assert (after[rel][3], after[rel][4]) == (uid, gid), f"{rel}: owner changed {uid}:{gid} -> {after[rel][3:]}"
        assert after[rel][2] == mode, f"{rel}: mode changed"
    assert (project.stat().st_uid, project.stat().st_gid) == project_owner


# --- attacks on the protection ----------------------------------------------------------------------

HOOK_ATTACK = ["rename:/app/.git:/app/.git-moved", "mkdir:/app/.git", "mkdir:/app/.git/hooks",
               "create:/app/.git/hooks/pre-commit", "create:/app/.git/config"]


def test_renaming_the_parent_cannot_replace_an_existing_hook(rustyolo, project):
    """The host runs .git/hooks/pre-commit later. Moving .git aside and building a new one must not
    leave the host with the agent's hook or config at those paths."""
    populate(project, EXISTING)
    run = rustyolo.exec(["/probes/fswrite64", *HOOK_ATTACK], cwd=project)
    assert run.rc == 0, run
    assert (project / ".git/hooks/pre-commit").read_text() == EXISTING[".git/hooks/pre-commit"], (
        f"the host's .git/hooks/pre-commit now has the agent's content (it renamed .git away):{run}")
    assert (project / ".git/config").read_text() == EXISTING[".git/config"], run


def test_renaming_a_placeholder_parent_cannot_plant_a_hook(rustyolo, project):
    """Same with no .git before the session: afterwards there must be no agent-written hook."""
    run = rustyolo.exec(["/probes/fswrite64", *HOOK_ATTACK], cwd=project)
    assert run.rc == 0, run
    hook = project / ".git/hooks/pre-commit"
    assert not hook.exists() or hook.read_text() == "", (
        f"the agent planted {hook} on the host by renaming the placeholder .git away:{run}")
