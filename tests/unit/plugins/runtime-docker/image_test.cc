// The image commands of the runtime-docker plugin: the build argv and the agents label.
#include "plugins/runtime-docker/image.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rustyolo::docker {
namespace {

namespace json = boost::json;

json::object build_request() {
    return json::object{
        {"runtime", "docker"},
        {"image", "rustyolo:test"},
        {"base_image", "debian:bookworm-slim"},
        {"agents", json::array{json::object{{"name", "claude"}, {"npm", json::array{"@anthropic-ai/claude-code"}}},
                               json::object{{"name", "codex"}, {"npm", json::array{"@openai/codex@0.5.1"}}}}},
        {"packages", json::object{{"npm", json::array{"@anthropic-ai/claude-code", "@openai/codex@0.5.1"}},
                                  {"debian", json::array{"postgresql-client", "g++"}}}},
        {"ca_cert", false},
        {"plan_schema", 2},
        {"context_dir", "/tmp/ctx"},
        {"quiet", true}};
}

std::vector<std::string> argv_of(const json::object &result) {
    return json::value_to<std::vector<std::string>>(result.at("argv"));
}

bool has_pair(const std::vector<std::string> &argv, const std::string &a, const std::string &b) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == a && argv[i + 1] == b)
            return true;
    return false;
}

TEST(RuntimeImage, BuildCommandCarriesBaseAgentsSchemaAndContext) {
    const json::object result = build_command(build_request());
    const auto argv = argv_of(result);
    ASSERT_GE(argv.size(), 3u);
    EXPECT_EQ(argv[0], "docker");
    EXPECT_EQ(argv[1], "build");
    EXPECT_TRUE(has_pair(argv, "--file", "/tmp/ctx/rustyolo.Dockerfile"));
    EXPECT_TRUE(has_pair(argv, "--tag", "rustyolo:test"));
    EXPECT_TRUE(has_pair(argv, "--build-arg", "BASE_IMAGE=debian:bookworm-slim"));
    EXPECT_TRUE(has_pair(argv, "--build-arg", "EXTRA_PACKAGES=postgresql-client g++"));
    EXPECT_TRUE(has_pair(argv, "--build-arg", "PLAN_SCHEMA=2"));
    EXPECT_TRUE(has_pair(argv, "--label", "org.rustyolo.agents=claude,codex=0.5.1"));
    EXPECT_TRUE(has_pair(argv, "--label", "org.rustyolo.base-image=debian:bookworm-slim"));
    EXPECT_TRUE(has_pair(argv, "--label", "org.rustyolo.debian-packages=postgresql-client g++"));
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--quiet"), argv.end());
    EXPECT_EQ(argv.back(), "/tmp/ctx");
    EXPECT_EQ(result.at("provide").at("sources"), "");
    EXPECT_EQ(result.at("provide").at("ca_cert"), "extra-ca.crt");
}

// Each agent gets its own stage, from the shared base, and its own layer copied from that stage:
// written into entrypoint/Dockerfile at its two marker lines.
TEST(RuntimeImage, EachAgentHasItsOwnStageAndLayer) {
    const json::object result = build_command(build_request());
    const auto &dockerfile = result.at("provide").at("dockerfile").as_object();
    EXPECT_EQ(dockerfile.at("from"), "entrypoint/Dockerfile");
    EXPECT_EQ(dockerfile.at("to"), "rustyolo.Dockerfile");
    const auto &replace = dockerfile.at("replace").as_object();
    EXPECT_EQ(replace.at("# @rustyolo agent-stages"),
              "FROM runtime AS agent-claude\nCOPY entrypoint/install-agent.sh /tmp/\n"
              "RUN sh /tmp/install-agent.sh claude @anthropic-ai/claude-code\n"
              "FROM runtime AS agent-codex\nCOPY entrypoint/install-agent.sh /tmp/\n"
              "RUN sh /tmp/install-agent.sh codex @openai/codex@0.5.1\n");
    EXPECT_EQ(replace.at("# @rustyolo agent-layers"),
              "COPY --from=agent-claude /opt/rustyolo/ /opt/rustyolo/\n"
              "COPY --from=agent-codex /opt/rustyolo/ /opt/rustyolo/\n");
}

// An agent without npm packages (exec, shell) runs what the base has: no stage, no layer.
TEST(RuntimeImage, AnAgentWithoutPackagesHasNoLayer) {
    auto request = build_request();
    request["agents"] = json::array{json::object{{"name", "shell"}, {"npm", json::array{}}}};
    const json::object result = build_command(request);
    const auto &replace = result.at("provide").at("dockerfile").at("replace").as_object();
    EXPECT_EQ(replace.at("# @rustyolo agent-stages"), "");
    EXPECT_EQ(replace.at("# @rustyolo agent-layers"), "");
    EXPECT_TRUE(has_pair(argv_of(result), "--label", "org.rustyolo.agents=shell"));
}

TEST(RuntimeImage, AgentNamesThatCannotNameAStageAreRefused) {
    for (const char *bad : {"Claude", "a b", "-x", "", "x/y"}) {
        auto request = build_request();
        request["agents"] = json::array{json::object{{"name", bad}, {"npm", json::array{"pkg"}}}};
        try {
            build_command(request);
            FAIL() << bad;
        } catch (const std::runtime_error &e) {
            EXPECT_NE(std::string(e.what()).find("\"" + std::string(bad) + "\""), std::string::npos) << e.what();
        }
    }
}

TEST(RuntimeImage, DebianPackageNamesAreChecked) {
    for (const char *bad : {"a", "Foo", "-x", "x y", "pkg=1.0", "+x"}) {
        auto request = build_request();
        request["packages"] = json::object{{"debian", json::array{"jq", bad}}};
        try {
            build_command(request);
            FAIL() << bad;
        } catch (const std::runtime_error &e) {
            EXPECT_NE(std::string(e.what()).find("\"" + std::string(bad) + "\""), std::string::npos) << e.what();
        }
    }
}

TEST(RuntimeImage, PodmanBuildsWithItsOwnProgram) {
    auto request = build_request();
    request["runtime"] = "podman";
    EXPECT_EQ(argv_of(build_command(request))[0], "podman");
}

TEST(RuntimeImage, PackageNamesTheBuildArgumentCannotCarryAreRefused) {
    auto request = build_request();
    request["agents"] = json::array{json::object{{"name", "x"}, {"npm", json::array{"ok", "evil pkg"}}}};
    try {
        build_command(request);
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("\"evil pkg\""), std::string::npos) << e.what();
    }
}

TEST(RuntimeImage, MissingOrRelativeContextIsInvalid) {
    auto request = build_request();
    request["context_dir"] = "ctx";
    EXPECT_THROW(build_command(request), std::invalid_argument);
    request.erase("context_dir");
    EXPECT_THROW(build_command(request), std::invalid_argument);
}

// `rustyolo update --image` pulls a reference that starts with a registry host and builds a local
// name; the decision and the command are the runtime plugin's.
TEST(RuntimeImage, ARegistryReferenceIsPulledWithTheRuntimesOwnProgram) {
    EXPECT_EQ(pull_command("docker", "ghcr.io/acme/rustyolo:1"),
              (json::value{{"pull", true}, {"argv", {"docker", "pull", "ghcr.io/acme/rustyolo:1"}}}));
    EXPECT_EQ(pull_command("podman", "localhost:5000/rustyolo"),
              (json::value{{"pull", true}, {"argv", {"podman", "pull", "localhost:5000/rustyolo"}}}));
}

TEST(RuntimeImage, ALocalNameIsNotPulled) {
    for (const char *local : {"rustyolo:latest", "acme/rustyolo", "rustyolo"})
        EXPECT_EQ(pull_command("docker", local), (json::value{{"pull", false}})) << local;
}

TEST(RuntimeImage, AgentsLabelRoundTrips) {
    const json::array agents = parse_agents_label("claude,codex=0.5.1");
    ASSERT_EQ(agents.size(), 2u);
    EXPECT_EQ(agents[0].at("name"), "claude");
    EXPECT_TRUE(agents[0].at("version").is_null());
    EXPECT_EQ(agents[1].at("name"), "codex");
    EXPECT_EQ(agents[1].at("version"), "0.5.1");
    EXPECT_TRUE(parse_agents_label("").empty());
}

// The engine client is looked up in PATH's absolute entries only: a client planted in the working
// directory (the project the agent writes) is never run, also when PATH has an empty entry.
TEST(RuntimeImage, InspectThroughTheClientNeverRunsOneFromTheWorkingDirectory) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("rustyolo-engine-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "bin");
    for (const fs::path &file : {dir / "rustyolo-fake-engine", dir / "bin" / "rustyolo-fake-engine"}) {
        std::ofstream(file) << "#!/bin/sh\necho '{\"org.rustyolo.plan-schema\":\"2\"}'\n";
        fs::permissions(file, fs::perms::owner_all);
    }
    const char *old_path = std::getenv("PATH");
    const std::string saved = old_path ? old_path : "";
    const fs::path before = fs::current_path();
    fs::current_path(dir);
    ::setenv("PATH", "/nonexistent:", 1);
    EXPECT_THROW(inspect_image("rustyolo-fake-engine", "img"), std::runtime_error);
    ::setenv("PATH", ("/nonexistent:" + (dir / "bin").string()).c_str(), 1);  // control
    boost::json::object found;
    EXPECT_NO_THROW(found = inspect_image("rustyolo-fake-engine", "img"));
    EXPECT_EQ(boost::json::serialize(found["present"]), "true");
    ::setenv("PATH", saved.c_str(), 1);
    fs::current_path(before);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace rustyolo::docker
