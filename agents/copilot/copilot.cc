// The `copilot` agent: GitHub Copilot CLI (npm @github/copilot, a native single-file executable) in
// YOLO mode. The facts below are those of the pinned version (agents/pins.txt) and of GitHub's
// Copilot CLI reference. The executable keeps its JavaScript compressed, so the drift scan sees only
// the hosts of its native part.
//
// Copilot CLI has no flag for an appended system prompt, so the sandbox message is not injected.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Copilot : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "copilot";
        m.executable = "copilot";
        // --allow-all = --allow-all-tools --allow-all-paths --allow-all-urls.
        m.yolo_args = {"--allow-all"};
        m.fixed_args = {"--no-auto-update"};
        m.egress = {
            {"github.com", "GitHub login (device flow)"},
            {"api.github.com", "the GitHub account, its Copilot entitlement and token"},
            {"api.githubcopilot.com", "the Copilot API"},
            {"api.individual.githubcopilot.com", "the Copilot API of individual plans"},
            {"api.business.githubcopilot.com", "the Copilot API of Copilot Business"},
            {"api.enterprise.githubcopilot.com", "the Copilot API of Copilot Enterprise"},
        };
        m.vendor_domains = {"githubcopilot.com", "github.com", "githubusercontent.com", "ghe.com"};
        add_each(m.decline, {"docs.github.com"}, "documentation links, never fetched by the CLI");
        m.env_passthrough = {"COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_MODEL"};
        m.env = {{"COPILOT_HOME", "/home/agent/.copilot"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"copilot", "/home/agent/.copilot"}};
        m.protect = {{".github/copilot-instructions.md", "custom instructions Copilot follows"},
                     {".github/agents/", "custom agents, with their tools and MCP servers"},
                     {".github/hooks/", "hooks Copilot CLI runs"},
                     {".github/skills/", "skills"},
                     {".github/instructions/", "path-specific instructions"},
                     {".mcp.json", "MCP servers Copilot CLI starts"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Copilot, "agent-copilot", "0.1.0", "GitHub Copilot CLI in YOLO mode (--allow-all)")
