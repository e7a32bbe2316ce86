#include "entrypoint/environment.hpp"

#include <gtest/gtest.h>

#include <map>

namespace rustyolo::entrypoint {
namespace {

using Vars = std::map<std::string, std::string>;

GetenvFn from(const Vars &vars) {
    return [vars](const char *name) -> const char * {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

AgentAccount account() { return AgentAccount{1000, 1000, "agent", "/home/agent", "/bin/bash"}; }

TEST(AgentEnvironment, IsBuiltFromScratchInAFixedOrder) {
    Plan plan;
    auto env = agent_environment(plan, account(),
                                 from({{"TERM", "xterm"}, {"SECRET", "x"}, {"LD_PRELOAD", "/x.so"}}));
    EXPECT_EQ(env,
              (std::vector<std::string>{std::string("PATH=") + kAgentPath, "HOME=/home/agent", "USER=agent",
                                        "LOGNAME=agent", "SHELL=/bin/bash", "TERM=xterm", "LANG=C.UTF-8"}));
}

TEST(AgentEnvironment, HasNoTermWhenTheContainerHasNone) {
    auto env = agent_environment(Plan{}, account(), from({}));
    for (const auto &e : env)
        EXPECT_NE(e.rfind("TERM=", 0), 0u) << e;
}

TEST(AgentEnvironment, TakesValuesFromThePlanAndNameOnlyEntriesFromTheRuntime) {
    Plan plan;
    plan.env = {{"CLAUDE_CONFIG_DIR", std::string("/home/agent/.claude")},
                {"ANTHROPIC_API_KEY", std::nullopt},
                {"NOT_SET_ON_HOST", std::nullopt}};
    auto env = agent_environment(plan, account(), from({{"ANTHROPIC_API_KEY", "sk-test"}}));
    EXPECT_EQ(env.at(env.size() - 2), "CLAUDE_CONFIG_DIR=/home/agent/.claude");
    EXPECT_EQ(env.back(), "ANTHROPIC_API_KEY=sk-test");
}

TEST(AgentEnvironment, ALaterEntryReplacesAnEarlierOneInPlace) {
    Plan plan;
    plan.env = {{"LANG", std::string("de_DE.UTF-8")}, {"X", std::string("1")}, {"X", std::string("2")}};
    auto env = agent_environment(plan, account(), from({}));
    EXPECT_EQ(env.at(5), "LANG=de_DE.UTF-8");  // no TERM here
    EXPECT_EQ(env.back(), "X=2");
    EXPECT_EQ(env.size(), 7u);
}

TEST(AgentEnvironment, RefusesNamesThatCannotBeVariables) {
    for (const std::string &name : {std::string(""), std::string("A=B"), std::string("A\0B", 3)}) {
        Plan plan;
        plan.env = {{name, std::string("v")}};
        EXPECT_THROW(agent_environment(plan, account(), from({})), std::runtime_error) << name;
    }
}

}  // namespace
}  // namespace rustyolo::entrypoint
