// The `codex` agent: OpenAI Codex CLI (npm @openai/codex, a native binary) in YOLO mode. The facts
// below are those of the pinned version (agents/pins.txt); the drift scan checks the hosts.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Codex : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "codex";
        m.executable = "codex";
        // Codex's own sandbox needs namespaces, which the sandbox's seccomp filter refuses: its
        // commands would all fail. This container is the sandbox, so Codex's is bypassed.
        m.yolo_args = {"--dangerously-bypass-approvals-and-sandbox"};
        // Config overrides (-c key=TOML value) come first, so that they apply to every subcommand:
        // no update check, no analytics.
        m.fixed_args = {"-c", "check_for_update_on_startup=false", "-c", "analytics.enabled=false"};
        // The message as Codex's developer instructions (a TOML string: JSON's string escapes are TOML's).
        m.inject = [](const std::string &message, std::vector<std::string> &argv,
                      std::vector<std::pair<std::string, std::string>> &) {
            const std::vector<std::string> args{"-c", "developer_instructions=" + json::serialize(json::string(message))};
            argv.insert(argv.begin() + 1, args.begin(), args.end());
        };
        m.egress = {
            {"api.openai.com", "the OpenAI API (API-key login)"},
            {"chatgpt.com", "the Codex backend of a ChatGPT login (chatgpt.com/backend-api)"},
            {"auth.openai.com", "ChatGPT login (device code) and its token refresh"},
        };
        m.vendor_domains = {"openai.com", "openai.org", "chatgpt.com", "oaistatic.com"};
        add_each(m.decline, {"openai.com", "www.openai.com", "help.openai.com", "developers.openai.com",
                             "community.openai.com", "platform.openai.com", "chat.openai.com", "learn.chatgpt.com",
                             "releases.openai.com", "openai.org"},
                 "documentation, help or account link shown to the user, never fetched by the CLI");
        add_each(m.decline, {"ab.chatgpt.com"}, "metrics export (OpenTelemetry); analytics are off");
        add_each(m.decline, {"persistent.oaistatic.com"}, "cosmetic TUI assets (pets), not needed");
        add_each(m.decline, {"au.api.openai.com", "gov.api.openai.com", "gov.chatgpt.com", "api.openai.org",
                             "auth.api.openai.org", "platform.api.openai.org"},
                 "regional, government or internal endpoints, used only when configured: allow the one you use "
                 "with --allow-domains");
        add_each(m.decline, {"chatgpt.comt.openai.com", "writable.amazon-bedrock-runtimeapi.chatgpt-staging.comapi.chatgpt.com"},
                 "two adjacent strings of the native binary's string table read as one name, not a host");
        m.env_passthrough = {"OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORGANIZATION",
                             "OPENAI_PROJECT"};
        m.env = {{"CODEX_HOME", "/home/agent/.codex"}, {"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"codex", "/home/agent/.codex"}};
        m.protect = {{".codex/", "project config (.codex/config.toml): MCP servers, hooks, profiles, skills"},
                     {".agents/", "skills and plugins that Codex (and other agents) load from the project"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Codex, "agent-codex", "0.1.0", "OpenAI Codex CLI in YOLO mode (--dangerously-bypass-approvals-and-sandbox)")
