#include "docker_argv.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace rustyolo::docker {
namespace {

LaunchRequest request() {
    LaunchRequest r;
    r.plan.session = "abc123";
    r.plan.image = "rustyolo:latest";
    r.plan.agent = PlanAgent{"claude", "agent-claude", {"claude"}};
    r.plan.user = PlanUser{1000, 1000, "agent", "/home/agent"};
    r.plan.mounts = {PlanMount{"/home/u/p", "/app", false, "project", "", false},
                     PlanMount{"/home/u/p/.envrc", "/app/.envrc", true, "protect", "", false}};
    r.plan.resources = PlanResources{1073741824, 1.5, 128};
    r.plan.env = {PlanEnv{"ANTHROPIC_API_KEY", std::nullopt}, PlanEnv{"FOO", "bar"}};
    r.plan_file = "/run/user/1000/rustyolo/abc123/plan.json";
    r.session_dir = "/run/user/1000/rustyolo/abc123";
    return r;
}

// True when `argv` contains `flag` immediately followed by `value`.
bool has_pair(const std::vector<std::string> &argv, const std::string &flag, const std::string &value) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag && argv[i + 1] == value)
            return true;
    return false;
}

TEST(DockerArgv, DropsEveryCapabilityButTheSupervisors) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--cap-drop", "ALL"));
    std::vector<std::string> added;
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == "--cap-add")
            added.push_back(argv[i + 1]);
    EXPECT_EQ(added, supervisor_capabilities());
    EXPECT_TRUE(has_pair(argv, "--security-opt", "no-new-privileges"));
}

TEST(DockerArgv, DisablesIpv6AndAppliesLimits) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--sysctl", "net.ipv6.conf.all.disable_ipv6=1"));
    EXPECT_TRUE(has_pair(argv, "--memory", "1073741824"));
    EXPECT_TRUE(has_pair(argv, "--memory-swap", "1073741824"));
    EXPECT_TRUE(has_pair(argv, "--cpus", "1.5"));
    EXPECT_TRUE(has_pair(argv, "--pids-limit", "128"));
}

TEST(DockerArgv, UnlimitedResourcesAddNoFlags) {
    LaunchRequest r = request();
    r.plan.resources = PlanResources{};
    auto argv = run_argv(r);
    for (const char *flag : {"--memory", "--cpus", "--pids-limit"})
        EXPECT_EQ(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
}

TEST(DockerArgv, MountsAreSingleTokensAndProtectedOnesReadOnly) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--mount", "type=bind,source=/home/u/p,target=/app"));
    EXPECT_TRUE(has_pair(argv, "--mount", "type=bind,source=/home/u/p/.envrc,target=/app/.envrc,readonly"));
    EXPECT_TRUE(has_pair(argv, "--mount",
                         "type=bind,source=/run/user/1000/rustyolo/abc123/plan.json,target=/run/rustyolo/plan.json,"
                         "readonly"));
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "-v"), argv.end());
}

TEST(DockerArgv, PathsDockerCannotExpressAreRefused) {
    LaunchRequest r = request();
    r.plan.mounts[0].source = "/home/u/a,b";
    EXPECT_THROW(run_argv(r), std::invalid_argument);
}

TEST(DockerArgv, SecretsArePassedByNameOnly) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--env", "ANTHROPIC_API_KEY"));
    EXPECT_TRUE(has_pair(argv, "--env", "FOO=bar"));
}

TEST(DockerArgv, TtyOnlyWhenInteractive) {
    LaunchRequest r = request();
    auto argv = run_argv(r);
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "--tty"), argv.end());
    r.interactive = true;
    argv = run_argv(r);
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--tty"), argv.end());
}

TEST(DockerArgv, UniqueNameAndLabelsAndTheImageLast) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--name", "rustyolo-claude-abc123"));
    EXPECT_TRUE(has_pair(argv, "--label", "org.rustyolo.session=abc123"));
    EXPECT_EQ(argv.back(), "rustyolo:latest");
    EXPECT_EQ(argv[0], "docker");
    EXPECT_TRUE(has_pair(argv, "run", "--rm"));
}

TEST(DockerArgv, HomeIsATmpfsOwnedByTheAgent) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--tmpfs", "/home/agent:rw,nosuid,nodev,exec,mode=0700,uid=1000,gid=1000"));
}

TEST(DockerArgv, PodmanUsesTheSameCli) {
    LaunchRequest r = request();
    r.runtime = "podman";
    EXPECT_EQ(run_argv(r)[0], "podman");
}

}  // namespace
}  // namespace rustyolo::docker
