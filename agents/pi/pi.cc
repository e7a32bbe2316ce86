// The `pi` agent: pi (npm @mariozechner/pi-coding-agent), a minimal multi-provider coding agent.
// pi has no permission prompts at all (it always runs in YOLO mode), so there are no YOLO args.
// The facts below are those of the pinned version (agents/pins.txt); the drift scan checks them.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Pi : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "pi";
        m.executable = "pi";
        m.inject = append_flag("--append-system-prompt");
        // pi talks to the provider the user picks (--provider); these are its three main ones. Allow
        // another provider's API with --allow-domains.
        m.egress = {
            {"api.anthropic.com", "the Anthropic provider's API"},
            {"api.openai.com", "the OpenAI provider's API"},
            {"generativelanguage.googleapis.com", "the Google (Gemini API) provider's API"},
        };
        m.vendor_domains = {"pi.dev", "shittycodingagent.ai", "mariozechner.at"};
        add_each(m.decline, {"pi.dev"},
                 "the version check and install report (both off: PI_SKIP_VERSION_CHECK, PI_TELEMETRY=0, "
                 "PI_OFFLINE) and the session share viewer's links");
        add_each(m.decline, {"mariozechner.at", "shittycodingagent.ai"}, "the author's pages, links in the docs");
        add_each(m.decline, {"cchistory.mariozechner.at"},
                 "the source of Claude Code's tool names, cited in a comment of the Anthropic provider");
        m.env_passthrough = {"ANTHROPIC_API_KEY", "ANTHROPIC_OAUTH_TOKEN", "OPENAI_API_KEY", "GEMINI_API_KEY",
                             "OPENROUTER_API_KEY", "GROQ_API_KEY", "XAI_API_KEY", "MISTRAL_API_KEY"};
        m.env = {{"PI_CODING_AGENT_DIR", "/home/agent/.pi/agent"},
                 {"PI_SKIP_VERSION_CHECK", "1"},
                 {"PI_TELEMETRY", "0"},
                 {"PI_OFFLINE", "1"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"pi", "/home/agent/.pi/agent"}};
        m.protect = {{".pi/", "project settings, extensions (TypeScript that pi loads and runs), skills, prompts, "
                              "packages and the system prompt override"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Pi, "agent-pi", "0.1.0", "pi, a minimal coding agent (no permission prompts)")
