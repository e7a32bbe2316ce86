// A minimal third-party agent plugin. It declares one agent, `myagent`, that prints a greeting from
// inside the sandbox; replace the argv with your agent's executable and flags.
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
        if (request.at("user_args").as_bool()) {
            argv = {"/bin/echo"};
            for (const auto &arg : request.at("args").as_array())
                argv.emplace_back(arg.as_string());
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
