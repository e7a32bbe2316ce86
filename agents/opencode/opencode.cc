// The `opencode` agent: opencode (npm opencode-ai, a native binary) in YOLO mode. The facts below are
// those of the pinned version (agents/pins.txt); the drift scan checks the hosts against them.
//
// opencode takes extra instructions from files only (its `instructions` setting), not as text, so
// the sandbox message is not injected.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Opencode : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "opencode";
        m.executable = "opencode";
        // Every permission request is approved (the TUI and `opencode run` both take it).
        m.yolo_args = {"--dangerously-skip-permissions"};
        m.egress = {
            {"opencode.ai", "opencode Zen, its own model gateway (opencode.ai/zen), and its login"},
            {"models.dev", "the provider and model catalog opencode reads at start"},
        };
        m.vendor_domains = {"opencode.ai", "opncd.ai", "models.dev", "sst.dev"};
        add_each(m.decline, {"api.opencode.ai", "app.opencode.ai", "dev.opencode.ai", "opncd.ai"},
                 "session sharing and the web app, used only by /share and `opencode web`: allow them with "
                 "--allow-domains then");
        add_each(m.decline, {"models.opencode.ai"}, "a mirror of the models.dev catalog, which is allowed instead");
        add_each(m.decline, {"social-cards.sst.dev"}, "link previews of shared sessions, never fetched by the CLI");
        m.env_passthrough = {"OPENCODE_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY",
                             "OPENROUTER_API_KEY", "GROQ_API_KEY", "XAI_API_KEY"};
        m.env = {{"OPENCODE_DISABLE_AUTOUPDATE", "1"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        // Credentials (auth.json) and sessions, the user's global config, and the state (recent
        // models, prompt history). Each one, since the folders above them in the home are created
        // for the mounts and are not the agent's to add to.
        m.persist = {{"opencode", "/home/agent/.local/share/opencode"},
                     {"opencode-config", "/home/agent/.config/opencode"},
                     {"opencode-state", "/home/agent/.local/state/opencode"}};
        const std::string runs = "opencode reads it as configuration and runs what it names (MCP servers, "
                                 "formatters, LSP servers, plugins)";
        m.protect = {{"opencode.json", runs},
                     {"opencode.jsonc", runs},
                     {".opencode/", "agents, commands, plugins (JavaScript that opencode runs) and tools"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Opencode, "agent-opencode", "0.1.0", "opencode in YOLO mode (--dangerously-skip-permissions)")
