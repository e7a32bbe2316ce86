// The `claude` agent: Claude Code (npm @anthropic-ai/claude-code) in YOLO mode. The facts below are
// those of the pinned version (agents/pins.txt); the drift scan checks the hosts against it.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Claude : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "claude";
        m.executable = "claude";
        m.yolo_args = {"--dangerously-skip-permissions"};
        // Appended with the user's args too (unless inject_message is "none").
        m.inject = append_flag("--append-system-prompt");
        m.egress = {
            {"api.anthropic.com", "the Claude API; after an OAuth login also API-key creation and account roles"},
            {"platform.claude.com", "OAuth login: the token endpoint of every login (platform.claude.com/v1/oauth/token)"},
            {"claude.ai", "subscription (Claude.ai) accounts: the OAuth client metadata and account origin"},
        };
        m.vendor_domains = {"anthropic.com", "anthropic.dev", "claude.ai", "claude.com", "claudeusercontent.com"};
        add_each(m.decline, {"anthropic.com", "www.anthropic.com", "docs.anthropic.com", "support.anthropic.com",
                             "status.anthropic.com", "portal.anthropic.com", "code.claude.com", "academy.claude.com",
                             "support.claude.com", "status.claude.com", "claude.com", "www.claude.ai",
                             "anthropic.dev"},
                 "documentation, support or status link shown to the user (the subscription login's authorize page "
                 "on claude.com opens in your browser on the host), never fetched by the CLI");
        add_each(m.decline, {"api-staging.anthropic.com", "api-pr-preview.anthropic.com", "mcp-proxy-staging.anthropic.com",
                             "bridge-staging.claudeusercontent.com", "frame.staging.claudeusercontent.com",
                             "preview.claude.ai"},
                 "Anthropic's staging and preview environments, used only by Anthropic's own builds");
        add_each(m.decline, {"mcp-proxy.anthropic.com", "*.mcp.claude.com"},
                 "MCP connectors configured on claude.ai (Gmail, Slack, ...), reached only when you use them: allow "
                 "them with --allow-domains then");
        add_each(m.decline, {"claudeusercontent.com", "www.claudeusercontent.com", "bridge.claudeusercontent.com",
                             "frame.claudeusercontent.com", "assets.claude.ai"},
                 "Claude Desktop and web-app content hosts named in the shared bundle, not used by the CLI");
        add_each(m.decline, {"downloads.claude.ai", "releases.claude.com"},
                 "updates and the model catalog; the updater is off (DISABLE_AUTOUPDATER, "
                 "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC): the image is rebuilt instead");
        m.env_passthrough = {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL",
                             "ANTHROPIC_SMALL_FAST_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL",
                             "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL",
                             "CLAUDE_CODE_OAUTH_TOKEN"};
        // Credentials, settings and history live in one directory that persists under --auth-home;
        // the updater, telemetry, error reports and surveys are off. Node.js trusts the image's CA
        // bundle too (which includes any CA the image was built to trust).
        m.env = {{"CLAUDE_CONFIG_DIR", "/home/agent/.claude"},
                 {"DISABLE_AUTOUPDATER", "1"},
                 {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"claude", "/home/agent/.claude"}};
        const std::string runs = "Claude Code reads it as configuration and runs what it names (hooks, MCP servers)";
        m.protect = {{".claude/settings.json", runs},
                     {".claude/settings.local.json", runs},
                     {".mcp.json", "Claude Code starts the MCP servers it names"},
                     {".claude/hooks/", "hook scripts that settings name"},
                     {".claude/agents/", "subagents, whose front matter may declare hooks and tools"},
                     {".claude/skills/", "skills, whose front matter may declare hooks and tools"},
                     {".claude/commands/", "slash commands, which may run shell commands"},
                     {".claude/plugins/", "plugins, which bring hooks and MCP servers"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Claude, "agent-claude", "0.2.0", "Claude Code in YOLO mode (--dangerously-skip-permissions)")
