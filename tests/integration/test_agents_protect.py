"""Every installed agent's protected paths are read-only in every session, whichever agent runs:
a file that an `exec` session plants in another agent's settings (hooks, MCP servers) never
reaches the host, where that agent may run later outside the sandbox. The twin shows that the same
`exec` session writes an ordinary project file through to the host."""


WRITE_FAILS = {"EROFS", "EACCES"}
CREATE_FAILS = {"EROFS", "EACCES", "EEXIST"}

# Existing settings of other agents: overwriting them must fail and leave the host's content.
EXISTING = {
    ".claude/settings.json": '{"hooks": {}}\n',
    ".gemini/settings.json": '{"tools": {}}\n',
    ".qwen/settings.json": '{"mcpServers": {}}\n',
    "opencode.json": '{"$schema": "https://opencode.ai/config.json"}\n',
}
# Configuration of other agents that does not exist yet: creating it must fail too.
MISSING = [".codex/config.toml", ".opencode/plugins/hook.js", ".pi/extensions/hook.ts", ".clinerules",
           ".mcp.json", ".claude/hooks/pre.sh"]


def fswrite(rustyolo, project, ops):
    run = rustyolo.exec(["/probes/fswrite64", *ops], project)
    assert run.rc == 0, run
    return run.fswrite(), run




def test_exec_cannot_plant_settings_of_any_installed_agent(rustyolo, project, project_files):
    project_files(project, EXISTING)
    ops = [f"write:/app/{rel}" for rel in EXISTING] + [f"create:/app/{rel}" for rel in MISSING]
    results, run = fswrite(rustyolo, project, ops)
    for rel in EXISTING:
        assert results.get(f"write:/app/{rel}") in WRITE_FAILS, f"{rel}: {results.get(f'write:/app/{rel}')}:{run}"
        assert (project / rel).read_text() == EXISTING[rel], f"{rel} changed on the host:{run}"
    for rel in MISSING:
        assert results.get(f"create:/app/{rel}") in CREATE_FAILS | {"ENOENT"}, (
            f"{rel}: {results.get(f'create:/app/{rel}')}:{run}")
        host = project / rel
        assert not (host.is_file() and host.stat().st_size > 0), f"{rel} reached the host:{run}"


def test_twin_exec_writes_an_ordinary_project_file_through_to_the_host(rustyolo, project, project_files):
    project_files(project, EXISTING)
    results, run = fswrite(rustyolo, project, ["create:/app/notes.md", "create:/app/.claude/notes.md"])
    assert results.get("create:/app/notes.md") == "OK", run
    assert results.get("create:/app/.claude/notes.md") == "OK", run
    assert (project / "notes.md").read_text() == "pwned\n", run
    assert (project / ".claude/notes.md").read_text() == "pwned\n", run


def test_the_plan_names_each_protected_path_with_its_agent(rustyolo, project):
    run = rustyolo.run(["plan", "exec", "--", "true"], cwd=project, probes=False)
    assert run.rc == 0, run
    for rel, agent in [(".gemini", "agent gemini"), (".claude/settings.json", "agent claude"),
                       (".codex", "agent codex"), (".pi", "agent pi")]:
        assert any(agent in line for line in run.out.splitlines() if rel in line), (
            f"the plan does not say that {agent} protects {rel}:{run}")
