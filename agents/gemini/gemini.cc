// The `gemini` agent: Gemini CLI (npm @google/gemini-cli) in YOLO mode. The facts below are those
// of the pinned version (agents/pins.txt); the drift scan checks the hosts against them.
//
// Gemini CLI has no way to append to its system prompt (GEMINI_SYSTEM_MD replaces the whole
// prompt), so the sandbox message is not injected.
#include "agent_manifest.hpp"

namespace {

using namespace rustyolo::agents;

class Gemini : public ManifestAgent {
public:
    using ManifestAgent::ManifestAgent;

    Manifest manifest() const override {
        Manifest m;
        m.agent = "gemini";
        m.executable = "gemini";
        m.yolo_args = {"--approval-mode=yolo"};
        m.egress = {
            {"generativelanguage.googleapis.com", "the Gemini API (API-key login)"},
            {"cloudcode-pa.googleapis.com", "Gemini Code Assist, the API of a Google-account login"},
            {"oauth2.googleapis.com", "Google-account login: token exchange and refresh"},
            {"accounts.google.com", "Google-account login (the code flow without a browser)"},
            {"www.googleapis.com", "Google-account login: the account's user info"},
            {"aiplatform.googleapis.com", "Vertex AI (GOOGLE_GENAI_USE_VERTEXAI); a regional endpoint needs "
                                          "--allow-domains REGION-aiplatform.googleapis.com"},
        };
        // googleapis.com is watched: a new API host shows. (google.com and gstatic.com are not: the
        // bundle carries long lists of them from web libraries it embeds.)
        m.vendor_domains = {"googleapis.com", "geminicli.com"};
        add_each(m.decline, {"geminicli.com", "www.geminicli.com"}, "documentation links, never fetched");
        add_each(m.decline, {"play.googleapis.com"},
                 "usage statistics (Clearcut); refused here. Switch them off with "
                 "privacy.usageStatisticsEnabled=false in ~/.gemini/settings.json");
        add_each(m.decline, {"cloudtrace.googleapis.com", "logging.googleapis.com", "monitoring.googleapis.com"},
                 "OpenTelemetry export to Google Cloud, off unless you configure it (GEMINI_TELEMETRY_ENABLED)");
        add_each(m.decline, {"autopush-cloudcode-pa.googleapis.com", "staging-cloudcode-pa.googleapis.com"},
                 "Google's test environments of Code Assist, used only by Google's own builds");
        add_each(m.decline, {"aiplatform.eu.rep.googleapis.com", "aiplatform.us.rep.googleapis.com",
                             "us-central1-aiplatform.googleapis.com"},
                 "regional Vertex AI endpoints, used only when configured: allow yours with --allow-domains");
        add_each(m.decline, {"googleapis.com", "type.googleapis.com", "custom.googleapis.com", "mtls.googleapis.com",
                             "cloud.googleapis.com", "longrunning.googleapis.com", "workload.googleapis.com"},
                 "protocol-buffer type URLs and client-library defaults, names rather than hosts it fetches");
        add_each(m.decline, {"bigquery.googleapis.com", "cloudkms.googleapis.com", "cloudresourcemanager.googleapis.com",
                             "compute.googleapis.com", "dns.googleapis.com", "iam-meta-api.googleapis.com",
                             "iamcredentials.googleapis.com", "pubsub.googleapis.com", "storage.googleapis.com",
                             "firebase.googleapis.com", "firebaseinstallations.googleapis.com",
                             "firebaseremoteconfig.googleapis.com", "firebasestorage.googleapis.com",
                             "firestore.googleapis.com", "translate.googleapis.com", "translate-pa.googleapis.com",
                             "commondatastorage.googleapis.com", "chromeuxreport.googleapis.com"},
                 "Google Cloud and Firebase APIs named by the Google client libraries in the bundle, not used "
                 "by the CLI (a tool that needs one asks you for --allow-domains)");
        add_each(m.decline, {"ajax.googleapis.com", "fonts.googleapis.com", "maps.googleapis.com", "imasdk.googleapis.com",
                             "jnn-pa.googleapis.com", "cbks0.googleapis.com", "khm0.googleapis.com",
                             "khm1.googleapis.com", "khms.googleapis.com", "khms1.googleapis.com", "khms2.googleapis.com",
                             "mt.googleapis.com", "mt0.googleapis.com", "mt1.googleapis.com", "mt2.googleapis.com",
                             "mt3.googleapis.com", "mts.googleapis.com", "mts0.googleapis.com", "mts1.googleapis.com"},
                 "web (content-security) host lists of embedded web libraries, never fetched by the CLI");
        m.env_passthrough = {"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION",
                             "GOOGLE_GENAI_USE_VERTEXAI", "GEMINI_MODEL", "GOOGLE_GEMINI_BASE_URL"};
        m.env = {{"GEMINI_TELEMETRY_ENABLED", "false"},
                 {"NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"}};
        m.persist = {{"gemini", "/home/agent/.gemini"}};
        // The whole folder: a missing settings.json would be an empty placeholder, which Gemini CLI
        // refuses to parse; an empty folder is fine.
        m.protect = {{".gemini/", "Gemini CLI's project configuration: settings.json (hooks, MCP servers, tools), "
                                  ".env, hooks, commands, skills, agents, policies, extensions, system.md and "
                                  "sandbox.Dockerfile, which it reads and runs"}};
        return m;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Gemini, "agent-gemini", "0.1.0", "Gemini CLI in YOLO mode (--approval-mode=yolo)")
