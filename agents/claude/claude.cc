// The `claude` agent: Claude Code (npm @anthropic-ai/claude-code) in YOLO mode.
#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/plugin.hpp>

#include <algorithm>
#include <cctype>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

constexpr const char *kDefaultMessage =
    "You are operating within a sandboxed container with restricted access. The sandbox enforces "
    "four layers of security: (1) Filesystem isolation - you can only access the mounted project "
    "directory (some of its files, such as .git/hooks, .git/config and editor settings, are "
    "read-only) and explicitly mounted volumes; (2) Privilege isolation - you run as a non-root user "
    "with no capabilities; (3) Network isolation - outbound traffic is blocked except to explicitly "
    "allowed domains, and DNS only resolves those domains: a name that is not allowed fails at once "
    "as not found (NXDOMAIN, with the reason in the DNS answer's extended error), and a connection "
    "to an address that is not allowed is refused at once (connection refused, or host unreachable / "
    "administratively prohibited for UDP). That is the sandbox's policy, not a network fault: do not "
    "retry it or look for a way around it; (4) Syscall isolation - dangerous system calls are "
    "blocked. If the task needs a domain that is blocked, stop and ask the operator to approve it by "
    "running `rustyolo allow DOMAIN` (or `rustyolo allow DOMAIN:PORT`) in a terminal on the host; "
    "name the exact domain and why you need it. For any other access, ask the operator to adjust the "
    "sandbox configuration.";

class Claude : public sdk::Plugin, public sdk::AgentHook {
public:
    using sdk::Plugin::Plugin;

    std::vector<std::string> agent_names() override { return {"claude"}; }

    json::value agent_profile(const json::object &request) override {
        const sdk::JsonReader r(request, "agent profile request");
        std::vector<std::string> argv{"claude"};
        if (r.boolean_or("user_args", false)) {
            for (auto &arg : r.strings("args"))
                argv.push_back(std::move(arg));
        } else {
            argv.emplace_back("--dangerously-skip-permissions");
        }
        // As in the seed, the sandbox message is appended with user args too, unless disabled.
        std::string message = kDefaultMessage;
        if (const auto inject = r.optional_str("inject_message")) {
            message = *inject;
            std::string lowered = message;
            std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (lowered == "none")
                message.clear();
        }
        if (!message.empty()) {
            argv.emplace_back("--append-system-prompt");
            argv.push_back(message);
        }

        auto egress = [](const char *entry, const char *reason) {
            return json::object{{"entry", entry}, {"reason", reason}};
        };
        return json::object{
            {"argv", json::value_from(argv)},
            {"egress", json::array{egress("api.anthropic.com", "the Claude API"),
                                   egress("anthropic.com", "Anthropic's site, as in the seed"),
                                   egress("console.anthropic.com", "API-key login (OAuth)"),
                                   egress("claude.ai", "subscription login (OAuth)"),
                                   egress("statsig.anthropic.com", "feature flags Claude Code waits for")}},
            {"env_passthrough", json::array{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL",
                                            "ANTHROPIC_SMALL_FAST_MODEL", "CLAUDE_CODE_OAUTH_TOKEN"}},
            // Credentials, settings and history live in one directory that persists under
            // --auth-home; the in-image updater is off (the image is rebuilt instead).
            // Node.js trusts the image's CA bundle too (which includes any CA the image was
            // built to trust, e.g. a TLS-inspecting proxy's).
            {"env", json::object{{"CLAUDE_CONFIG_DIR", "/home/agent/.claude"},
                                 {"DISABLE_AUTOUPDATER", "1"},
                                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}}},
            {"persist", json::array{json::object{{"name", "claude"}, {"target", "/home/agent/.claude"}}}},
            // Claude Code runs hooks and MCP servers from these on the host too.
            {"protect", json::array{".claude/settings.json", ".claude/settings.local.json", ".mcp.json"}},
            {"install", json::object{{"npm", json::array{"@anthropic-ai/claude-code"}}}},
        };
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Claude, "agent-claude", "0.1.0", "Claude Code in YOLO mode (--dangerously-skip-permissions)")
