// The `cline` agent: Cline CLI (npm cline, a native executable with its JavaScript inside) in YOLO
// mode. The facts below are those of the pinned version (agents/pins.txt); the drift scan checks
// the hosts against them.
//
// Cline CLI has no flag for an appended system prompt, so the sandbox message is not injected.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Cline : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "cline";
        m.executable = "cline";
        m.yolo_args = {"--yolo"};
        m.egress = {
            {"api.cline.bot", "the Cline provider's API and the Cline account"},
            {"app.cline.bot", "Cline account login"},
        };
        m.vendor_domains = {"cline.bot", "cline.ai"};
        add_each(m.decline, {"cline.bot", "docs.cline.bot"}, "documentation links, never fetched by the CLI");
        add_each(m.decline, {"data.cline.bot", "otel.cline.bot"},
                 "telemetry (PostHog events, OpenTelemetry metrics); refused here");
        add_each(m.decline, {"core-api.staging.int.cline.bot", "staging-app.cline.bot"},
                 "Cline's staging environment, used only by Cline's own builds");
        m.env_passthrough = {"CLINE_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY",
                             "GEMINI_API_KEY"};
        m.env = {{"CLINE_DIR", "/home/agent/.cline"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"cline", "/home/agent/.cline"}};
        m.protect = {{".clinerules", "rules (a file or a folder), which may include hooks and workflows"},
                     {".cline/", "project hooks and plugins that Cline runs"},
                     {".agents/", "skills that Cline (and other agents) load from the project"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Cline, "agent-cline", "0.1.0", "Cline CLI in YOLO mode (--yolo)")
