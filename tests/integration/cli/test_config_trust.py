"""The CLI end to end on config files: the seed's .rustyolo.toml, precedence, and project-config
trust. These run the real rustyolo binary (plan / --dry-run only: nothing is started)."""
import json
import os
import subprocess

import pytest

RUSTYOLO = os.environ.get("RUSTYOLO_BIN")


@pytest.fixture
def env(tmp_path):
    if not RUSTYOLO:
        pytest.fail("RUSTYOLO_BIN is not set: run through scripts/test.sh")
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    e = {"PATH": os.environ["PATH"], "HOME": str(home),
         "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".local/state"),
         "XDG_RUNTIME_DIR": ""}
    return {"env": e, "home": home, "project": project}


def rustyolo(ctx, *args):
    return subprocess.run([RUSTYOLO, *args], cwd=ctx["project"], env=ctx["env"],
                          capture_output=True, text=True, timeout=60)


def plan(ctx, *args):
    r = rustyolo(ctx, *args, "plan", "exec", "--", "true")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def allowed(p):
    return {a["value"] for a in p["network"]["allow"]}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# The seed's keys; with domains it would widen the policy (the defaults allow none).
SEED = """
[default]
agent = "claude"

[resources]
memory = "2g"
cpus = "2"
pids_limit = "128"

[security]
audit_log = "verbose"
inject_message = "You are in a restricted environment"
"""


def test_seed_project_config_that_only_narrows_loads_unchanged(env):
    write(env["project"] / ".rustyolo.toml", SEED)
    p = plan(env)
    assert p["resources"]["memory_bytes"] == 2 * 1024**3
    assert p["resources"]["cpus"] == 2
    assert p["resources"]["pids"] == 128
    assert p["audit"]["level"] == "verbose"


def test_project_config_adding_domains_is_refused_until_trusted(env):
    write(env["project"] / ".rustyolo.toml",
          SEED.replace('agent = "claude"', 'agent = "claude"\nallow_domains = "github.com pypi.org"')
          + '\n[network]\nallow_lan = true\n')
    r = rustyolo(env, "plan", "exec", "--", "true")
    assert r.returncode == 2
    assert "github.com" in r.stderr and "allow_lan" in r.stderr
    assert "rustyolo trust" in r.stderr
    assert r.stdout == ""

    t = rustyolo(env, "trust")
    assert t.returncode == 0, t.stderr
    p = plan(env)
    assert {"github.com", "pypi.org"} <= allowed(p)
    assert p["network"]["allow_lan"] is True


def test_any_change_after_trust_makes_the_file_untrusted_again(env):
    cfg = env["project"] / ".rustyolo.toml"
    write(cfg, '[default]\nallow_domains = "github.com"\n')
    assert rustyolo(env, "trust").returncode == 0
    plan(env)
    write(cfg, '[default]\nallow_domains = "github.com evil.test"\n')
    r = rustyolo(env, "plan", "exec", "--", "true")
    assert r.returncode == 2
    assert "evil.test" in r.stderr


def test_trust_store_lives_in_the_users_state_dir_not_the_project(env):
    write(env["project"] / ".rustyolo.toml", '[default]\nallow_domains = "github.com"\n')
    assert rustyolo(env, "trust").returncode == 0
    assert (env["home"] / ".local/state/rustyolo/trust.json").exists()
    assert sorted(os.listdir(env["project"])) == [".rustyolo.toml"]


def test_project_narrows_the_users_domains(env):
    write(env["home"] / ".config/rustyolo/config.toml", '[default]\nallow_domains = "github.com pypi.org"\n')
    write(env["project"] / ".rustyolo.toml", '[default]\nallow_domains = "github.com"\n')
    assert allowed(plan(env)) == {"github.com"}


def test_project_cannot_raise_limits_or_lower_audit(env):
    for text, word in [('[resources]\nmemory = "64g"\n', "memory"),
                       ('[resources]\npids_limit = "unlimited"\n', "pids_limit"),
                       ('[security]\naudit_log = "none"\n', "audit_log"),
                       ('[security]\nseccomp_profile = "none"\n', "seccomp_profile"),
                       ('[security]\ndns_servers = "any"\n', "dns_servers"),
                       ('[default]\nvolumes = ["/tmp:/tmp"]\n', "volumes"),
                       ('[default]\nimage = "evil:latest"\n', "image")]:
        write(env["project"] / ".rustyolo.toml", text)
        r = rustyolo(env, "plan", "exec", "--", "true")
        assert r.returncode == 2, text
        assert word in r.stderr, r.stderr


def test_precedence_cli_over_env_over_user_file(env):
    write(env["home"] / ".config/rustyolo/config.toml", '[resources]\nmemory = "1g"\n')
    assert plan(env)["resources"]["memory_bytes"] == 1024**3
    env["env"]["RUSTYOLO_MEMORY"] = "2g"
    assert plan(env)["resources"]["memory_bytes"] == 2 * 1024**3
    assert plan(env, "--memory", "3g")["resources"]["memory_bytes"] == 3 * 1024**3


def test_trusted_domains_environment_variable_adds_domains(env):
    env["env"]["TRUSTED_DOMAINS"] = "example.org *.example.net"
    assert {"example.org", "*.example.net"} <= allowed(plan(env))


def test_unknown_key_in_a_config_file_names_file_line_and_key(env):
    write(env["project"] / ".rustyolo.toml", '[resources]\n\npids = "5"\n')
    r = rustyolo(env, "plan", "exec", "--", "true")
    assert r.returncode == 2
    assert ".rustyolo.toml:3" in r.stderr and "'pids'" in r.stderr


def test_claude_gets_its_domains_with_reasons_and_protected_paths(env):
    r = rustyolo(env, "plan", "claude")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)
    reasons = {a["value"]: a["reason"] for a in p["network"]["allow"]}
    assert "required by agent" in reasons["api.anthropic.com"]
    targets = {m["target"] for m in p["mounts"] if m["readonly"]}
    # (the project has no .git: a read-only .git stands in for it)
    assert {"/app/.git", "/app/.envrc", "/app/.rustyolo.toml", "/app/.claude/settings.json",
            "/app/.mcp.json"} <= targets
    assert p["agent"]["argv"][:2] == ["claude", "--dangerously-skip-permissions"]


def test_plan_and_dry_run_never_touch_the_project(env):
    assert rustyolo(env, "plan", "claude").returncode == 0
    assert rustyolo(env, "--dry-run", "claude").returncode == 0
    assert os.listdir(env["project"]) == []


def test_protected_path_that_is_a_symlink_is_refused(env):
    # A symlink cannot be made read-only safely: refused, naming it, before anything starts.
    os.symlink("/etc/hostname", env["project"] / ".envrc")
    r = rustyolo(env, "plan", "exec", "--", "true")
    assert r.returncode == 2
    assert ".envrc" in r.stderr and "symbolic link" in r.stderr
    # twin: the same file as a regular file is protected read-only
    os.unlink(env["project"] / ".envrc")
    (env["project"] / ".envrc").write_text("export X=1\n")
    p = plan(env)
    assert any(m["target"] == "/app/.envrc" and m["readonly"] for m in p["mounts"])
