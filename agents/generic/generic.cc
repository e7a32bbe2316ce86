// The generic profiles: `exec` runs any command, `shell` an interactive shell, under exactly the
// same policy as an agent (no egress of their own, nothing persisted). The test suites probe the
// sandbox through `exec`.
#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/plugin.hpp>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

class Generic : public sdk::Plugin, public sdk::AgentHook {
public:
    using sdk::Plugin::Plugin;

    std::vector<std::string> agent_names() override { return {"exec", "shell"}; }

    json::value agent_profile(const json::object &request) override {
        const sdk::JsonReader r(request, "agent profile request");
        const std::string agent = r.str("agent");
        std::vector<std::string> argv = r.strings("args");
        if (agent == "exec") {
            if (argv.empty())
                throw sdk::InvalidInput("rustyolo exec: no command given; use `rustyolo exec -- "
                                        "COMMAND [ARGS...]`");
        } else if (agent == "shell") {
            if (argv.empty())
                argv = {"/bin/bash", "-l"};
        } else {
            throw sdk::Unsupported("agent " + agent + " is not served by this plugin");
        }
        return json::object{{"argv", json::value_from(argv)}};
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Generic, "agent-generic", "0.1.0", "exec and shell: any command under the agent policy")
