// A minimal third-party agent plugin. It declares one agent, `myagent`, that prints a greeting from
// inside the sandbox; replace the argv with your agent's executable and flags.
#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/plugin.hpp>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

class MyAgent : public sdk::Plugin, public sdk::AgentHook {
public:
    using sdk::Plugin::Plugin;

    std::vector<std::string> agent_names() override { return {"myagent"}; }

    json::value agent_profile(const json::object &request) override {
        // Default ("YOLO") args, replaced by whatever the user gives after the agent name.
        std::vector<std::string> argv{"/bin/echo", "myagent is running in the sandbox"};
        // JsonReader checks every field it reads and names the bad one in its error.
        const sdk::JsonReader r(request, "agent profile request");
        if (r.boolean("user_args")) {
            argv = {"/bin/echo"};
            for (auto &arg : r.strings("args"))
                argv.push_back(std::move(arg));
        }
        return json::object{
            {"argv", json::value_from(argv)},
            // Every domain the agent needs, each with the reason a user will read.
            {"egress", json::array{json::object{{"entry", "api.myagent.test"},
                                                {"reason", "the myagent model API"}}}},
            {"env_passthrough", json::array{"MYAGENT_API_KEY"}},
            {"protect", json::array{".myagent/config.json"}},
        };
    }
};

}  // namespace

RUSTYOLO_PLUGIN(MyAgent, "myagent", "1.0.0", "Example third-party agent built against the rustyolo SDK")
