#include "core/cli/arguments.hpp"

#include <gtest/gtest.h>

namespace rustyolo::cli {
namespace {

OptionTable table() {
    OptionTable t;
    t.with_value = {"--memory", "-v", "--volume", "-e", "--allow-domains", "--image"};
    t.flags = {"--dry-run", "--allow-lan"};
    return t;
}

SplitArgs split(std::vector<std::string> args) { return split_arguments(args, table()); }

TEST(Arguments, NoArgumentsMeansTheDefaultAgentWithoutArgs) {
    SplitArgs s = split({});
    EXPECT_EQ(s.agent, "");
    EXPECT_FALSE(s.agent_args_given);
}

TEST(Arguments, AgentArgsAfterDoubleDashGoToTheAgent) {
    SplitArgs s = split({"claude", "--", "--version"});
    EXPECT_EQ(s.agent, "claude");
    EXPECT_EQ(s.agent_args, std::vector<std::string>{"--version"});
    EXPECT_TRUE(s.agent_args_given);
}

TEST(Arguments, UnknownOptionAfterTheAgentStartsTheAgentArgs) {
    SplitArgs s = split({"claude", "-p", "hello", "--memory", "2g"});
    EXPECT_EQ(s.agent_args, (std::vector<std::string>{"-p", "hello", "--memory", "2g"}));
    EXPECT_TRUE(s.options.empty());
}

TEST(Arguments, HelpAndVersionAfterTheAgentBelongToTheAgent) {
    EXPECT_EQ(split({"claude", "--version"}).agent_args, std::vector<std::string>{"--version"});
    EXPECT_EQ(split({"claude", "--help"}).agent_args, std::vector<std::string>{"--help"});
}

TEST(Arguments, RunOptionsBeforeAndRightAfterTheAgentAreRustyolos) {
    SplitArgs s = split({"--memory", "2g", "claude", "-v", "/a:/b", "--dry-run", "--", "--help"});
    EXPECT_EQ(s.options, (std::vector<std::string>{"--memory", "2g", "-v", "/a:/b", "--dry-run"}));
    EXPECT_EQ(s.agent, "claude");
    EXPECT_EQ(s.agent_args, std::vector<std::string>{"--help"});
}

TEST(Arguments, OptionWithEqualsTakesNoExtraWord) {
    SplitArgs s = split({"--memory=2g", "claude"});
    EXPECT_EQ(s.options, std::vector<std::string>{"--memory=2g"});
    EXPECT_EQ(s.agent, "claude");
}

TEST(Arguments, ExecTakesTheCommandAfterDoubleDash) {
    SplitArgs s = split({"--allow-lan", "exec", "--", "ls", "-la"});
    EXPECT_EQ(s.verb, "exec");
    EXPECT_EQ(s.agent, "exec");
    EXPECT_EQ(s.agent_args, (std::vector<std::string>{"ls", "-la"}));
}

TEST(Arguments, PlanTakesAnOptionalAgent) {
    EXPECT_EQ(split({"plan"}).agent, "");
    SplitArgs s = split({"plan", "claude", "--", "--version"});
    EXPECT_EQ(s.verb, "plan");
    EXPECT_EQ(s.agent, "claude");
    EXPECT_EQ(s.agent_args, std::vector<std::string>{"--version"});
}

TEST(Arguments, ManagementCommandsKeepTheirOwnArguments) {
    SplitArgs s = split({"--image", "x", "image", "build", "--base-image", "b"});
    EXPECT_EQ(s.verb, "image");
    EXPECT_EQ(s.options, (std::vector<std::string>{"--image", "x"}));
    EXPECT_EQ(s.command_args, (std::vector<std::string>{"build", "--base-image", "b"}));
}

TEST(Arguments, UnknownOptionsBeforeTheAgentAreLeftForTheParserToReport) {
    SplitArgs s = split({"--bogus", "claude"});
    EXPECT_EQ(s.options, std::vector<std::string>{"--bogus"});
    EXPECT_EQ(s.agent, "claude");
}

}  // namespace
}  // namespace rustyolo::cli

namespace rustyolo::cli {
namespace {

TEST(Arguments, AllowAndDenyAreVerbsNotAgentNames) {
    SplitArgs s = split({"allow", "example.com", "--session", "abc"});
    EXPECT_EQ(s.verb, "allow");
    EXPECT_EQ(s.agent, "");
    EXPECT_EQ(s.command_args, (std::vector<std::string>{"example.com", "--session", "abc"}));
    SplitArgs d = split({"deny", "--session=abc", "*.example.com"});
    EXPECT_EQ(d.verb, "deny");
    EXPECT_EQ(d.command_args, (std::vector<std::string>{"--session=abc", "*.example.com"}));
}

}  // namespace
}  // namespace rustyolo::cli
