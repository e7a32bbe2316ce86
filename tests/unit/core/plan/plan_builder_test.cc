// The plan builder against real built-in plugins and scripted fixture plugins
// (tests/fixtures/scripted_plugin.cc): which plugin each hook asks, how strictly the answers are
// read, and where each allow entry's reason comes from.
#include "core/plan/plan_builder.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

bool has_target(const Plan &plan, const std::string &target) {
    return std::any_of(plan.mounts.begin(), plan.mounts.end(), [&](const PlanMount &m) { return m.target == target; });
}

std::string fixture(const std::string &file) { return std::string(RUSTYOLO_TEST_FIXTURE_DIR) + "/" + file + ".so"; }

class PlanBuilder : public ::testing::Test {
protected:
    void SetUp() override {
        std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(test.begin(), test.end(), '/', '-');  // parameterised: "Name/0"
        root_ = fs::temp_directory_path() / ("rustyolo-plan-" + std::to_string(::getpid()) + "-" + test);
        fs::remove_all(root_);
        fs::create_directories(root_ / "project");
        fs::create_directories(root_ / "home");
        fs::create_directories(root_ / "data");
        config_ = merge({default_layer()});
        config_.runtime = "docker";  // what the CLI fills in from the first runtime plugin
        context_.cwd = fs::canonical(root_ / "project").string();
        context_.home = (root_ / "home").string();
        context_.uid = 1000;
        context_.gid = 1000;
        context_.getenv_fn = [](const char *) -> const char * { return nullptr; };
        context_.agent = "claude";
        context_.session = "0123456789ab";
    }
    void TearDown() override { fs::remove_all(root_); }

    // Every built-in plugin of the build tree but the files named in `except` ("resources.so").
    void load_builtins(const std::set<std::string> &except = {}) {
        std::vector<std::string> files;
        for (const auto &entry : fs::directory_iterator(RUSTYOLO_TEST_PLUGIN_DIR))
            if (entry.path().extension() == ".so" && !except.count(entry.path().filename().string()))
                files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        ASSERT_FALSE(files.empty()) << "no built-in plugins in " << RUSTYOLO_TEST_PLUGIN_DIR;
        for (const auto &file : files)
            registry_.load(file, true);
    }
    // A scripted fixture (scripted_<role>.so) with its config.
    const LoadedPlugin &load_fixture(const std::string &file, json::object config) {
        return registry_.load(fixture(file), false, config);
    }
    // The scripted agent "scripted": argv /bin/true and the given egress entries.
    void load_scripted_agent(json::array egress = {}) {
        load_fixture("scripted_agent",
                     {{"names", json::array{"scripted"}},
                      {"answer", json::object{{"argv", json::array{"/bin/true"}}, {"egress", std::move(egress)}}}});
        context_.agent = "scripted";
    }

    Plan build() { return build_plan(config_, registry_, context_); }
    // The message of the error the build throws; fails the test when the build succeeds.
    std::string build_error() {
        try {
            build();
        } catch (const std::exception &e) {
            return e.what();
        }
        ADD_FAILURE() << "the plan was built";
        return "";
    }
    // Expects the build to fail with a message that contains every one of `parts`.
    void expect_refused(std::initializer_list<std::string> parts) {
        const std::string message = build_error();
        for (const auto &part : parts)
            EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in: " << message;
    }

    fs::path root_;
    Config config_;
    BuildContext context_;
    PluginRegistry registry_{HostServices{}};
};

const PlanEgress *allow_entry(const Plan &plan, const std::string &value) {
    for (const auto &e : plan.network.allow)
        if (e.value == value)
            return &e;
    return nullptr;
}

// --- a good build with the real plugins ------------------------------------------------------

TEST_F(PlanBuilder, DefaultsBuildWithTheBuiltinPlugins) {
    load_builtins();
    Plan plan = build();
    EXPECT_EQ(plan.agent.plugin, "agent-claude");
    ASSERT_FALSE(plan.agent.argv.empty());
    EXPECT_EQ(plan.agent.argv[0], "claude");
    EXPECT_EQ(plan.network.firewall, "net-nftables");
    EXPECT_EQ(plan.network.mode, "filter");
    EXPECT_EQ(plan.syscalls.plugin, "seccomp");
    EXPECT_EQ(plan.syscalls.mode, "default");
    EXPECT_EQ(plan.resources.memory_bytes, std::int64_t{4} << 30);
    EXPECT_EQ(plan.resources.pids, 256);
    // The tmpfs mounts: a quarter of the memory each for /tmp and the home, 64 MiB of /dev/shm.
    EXPECT_EQ(plan.resources.tmp_bytes, std::int64_t{1} << 30);
    EXPECT_EQ(plan.resources.home_bytes, std::int64_t{1} << 30);
    EXPECT_EQ(plan.resources.shm_bytes, std::int64_t{64} << 20);
    EXPECT_EQ(plan.container_plugins, (std::vector<std::string>{"net-nftables", "seccomp"}));
    ASSERT_NE(allow_entry(plan, "api.anthropic.com"), nullptr);
    EXPECT_EQ(allow_entry(plan, "api.anthropic.com")->reason.rfind("required by agent: the Claude API", 0), 0u)
        << allow_entry(plan, "api.anthropic.com")->reason;
    // Claude Code's OAuth token endpoint; each entry has exactly its own reason.
    ASSERT_NE(allow_entry(plan, "platform.claude.com"), nullptr);
    EXPECT_EQ(allow_entry(plan, "platform.claude.com")->reason,
              "required by agent: OAuth login: the token endpoint of every login (platform.claude.com/v1/oauth/token)");
    for (const auto &e : plan.network.allow)
        EXPECT_FALSE(e.reason.empty()) << e.value;
    EXPECT_EQ(plan.mounts.front().origin, "project");
    EXPECT_EQ(plan.mounts.front().source, context_.cwd);
}

TEST_F(PlanBuilder, FirewallOptionSelectsIptables) {
    load_builtins();
    config_.firewall = "iptables";
    Plan plan = build();
    EXPECT_EQ(plan.network.firewall, "net-iptables");
    EXPECT_EQ(plan.container_plugins, (std::vector<std::string>{"net-iptables", "seccomp"}));
}

// --- which plugins each hook asks ----------------------------------------------------------

TEST_F(PlanBuilder, AgentServedByTwoPluginsIsRefusedNamingBothFiles) {
    load_builtins();
    load_fixture("scripted_agent", {{"names", json::array{"claude"}}, {"answer", json::object{}}});
    expect_refused({"agent \"claude\" is served by 2 plugins", "agent-claude", "fixture-agent",
                    fixture("scripted_agent"), "exactly one may serve it"});
}

TEST_F(PlanBuilder, UnknownAgentNamesTheAgentsThatExist) {
    load_builtins();
    context_.agent = "nope";
    expect_refused({"no plugin serves the agent \"nope\"", "agent-claude (claude)", "exec, shell", "--plugin FILE"});
}

TEST_F(PlanBuilder, RuntimeServedByTwoPluginsIsRefused) {
    load_builtins();
    load_fixture("scripted_runtime", {{"names", json::array{"docker"}}});
    expect_refused({"runtime \"docker\" is served by 2 plugins", "runtime-docker", "fixture-runtime",
                    fixture("scripted_runtime")});
}

TEST_F(PlanBuilder, UnknownRuntimeNamesTheRuntimesThatExist) {
    load_builtins();
    config_.runtime = "nope";
    expect_refused({"no plugin serves the runtime \"nope\"", "runtime-docker (docker, podman)", "--runtime"});
}

TEST_F(PlanBuilder, FirewallIsThePluginTheOptionNames) {
    load_builtins();
    load_scripted_agent();
    config_.allow_domains = {"a.test"};
    load_fixture("scripted_net", {{"answer", json::object{{"entries", json::array{json::object{
                                                              {"kind", "name"}, {"value", "a.test"},
                                                              {"ports", json::array{443}}}}}}}});
    EXPECT_EQ(build().network.firewall, "net-nftables");  // the default stays the default
    config_.firewall = "scripted";
    Plan plan = build();
    EXPECT_EQ(plan.network.firewall, "net-scripted");
    EXPECT_EQ(plan.container_plugins.front(), "net-scripted");
    ASSERT_EQ(plan.network.allow.size(), 1u);
    EXPECT_EQ(plan.network.allow[0].ports, std::vector<std::uint16_t>{443});
    EXPECT_EQ(plan.network.allow[0].protocol, "tcp");
    EXPECT_EQ(plan.network.allow[0].reason, "allowed by you (--allow-domains / config)");
}

TEST_F(PlanBuilder, FirewallWithoutItsPluginNamesTheCandidates) {
    load_builtins();
    config_.firewall = "pf";
    expect_refused({"no plugin serves the firewall \"pf\"", "net-pf, which is not loaded", "net-iptables",
                    "net-nftables", "use --firewall nftables (the default) or iptables"});
}

TEST_F(PlanBuilder, FirewallPluginWithoutANetworkHookIsRefused) {
    load_builtins();
    load_fixture("scripted_hookless", {});
    config_.firewall = "hookless";
    expect_refused({"firewall \"hookless\"", "net-hookless (" + fixture("scripted_hookless") + ")",
                    "has no network hook", "--firewall"});
}

TEST_F(PlanBuilder, TwoResourcePoliciesAreRefused) {
    load_builtins();
    load_fixture("scripted_resources", {{"answer", json::object{}}});
    expect_refused({"resource policy is served by 2 plugins", "resources (", "fixture-resources (",
                    "exactly one may serve it"});
}

TEST_F(PlanBuilder, NoCandidateIsAUsageErrorWhenTheUserChoseTheKey) {
    load_builtins();
    config_.firewall = "pf";
    EXPECT_THROW(build(), UsageError);
    config_.firewall = "nftables";
    context_.agent = "nope";
    EXPECT_THROW(build(), UsageError);
}

TEST_F(PlanBuilder, MissingResourcePolicyIsAnInstallationError) {
    load_builtins({"resources.so"});
    try {
        build();
        ADD_FAILURE() << "the plan was built";
    } catch (const UsageError &e) {
        ADD_FAILURE() << "a missing built-in plugin is not a usage error: " << e.what();
    } catch (const Error &) {
    }
    const std::string message = build_error();
    EXPECT_NE(message.find("no plugin serves the resource policy"), std::string::npos) << message;
    EXPECT_NE(message.find("reinstall rustyolo"), std::string::npos) << message;
}

TEST_F(PlanBuilder, SyscallPolicyIsThePluginNamedSeccomp) {
    load_builtins({"seccomp.so"});
    expect_refused({"no plugin serves the syscall policy", "seccomp, which is not loaded", "reinstall rustyolo"});
}

TEST_F(PlanBuilder, EveryMountGuardIsAskedAndTheFirstRefusalWins) {
    load_builtins();
    load_fixture("scripted_mount",
                 {{"answers", json::array{json::object{{"when", json::object{{"origin", "volume"}}},
                                                       {"answer", json::object{{"verdict", "refuse"},
                                                                               {"rule", "fixture-rule"},
                                                                               {"reason", "the fixture says no"}}}}}},
                  {"answer", json::object{{"verdict", "allow"}}}});
    config_.volumes = {(root_ / "data").string() + ":/data"};
    json::object refused;
    context_.on_mount_refused = [&](const json::object &details) { refused = details; };
    expect_refused({"refused by fixture-mount (rule fixture-rule): the fixture says no"});
    ASSERT_TRUE(refused["rule"].is_string());
    EXPECT_EQ(refused["rule"].as_string(), "fixture-rule");
    // The built-in guard is asked first: its refusal wins over the fixture's.
    config_.volumes = {context_.home + "/.ssh:/x"};
    fs::create_directories(context_.home + "/.ssh");
    expect_refused({"refused by mount-guard"});
}

TEST_F(PlanBuilder, NoOtherMountReachesOrReplacesTheProjectsProtectedPaths) {
    load_builtins();
    context_.home = "/nonexistent-home";  // not above the project, so that only this rule speaks
    fs::create_directories(root_ / "data2");
    config_.volumes = {root_.string() + ":/host"};
    expect_refused({"volume \"" + root_.string() + ":/host\" is read-write and contains the project directory"});
    config_.volumes = {(root_ / "data").string() + ":/app/.git/hooks"};
    expect_refused({"the container path \"/app/.git/hooks\" lies inside /app/.git", "replace that protection"});
    // The agent's own protected files count too (claude: .claude/settings.json).
    config_.volumes = {(root_ / "data").string() + ":/app/.claude"};
    expect_refused({"contains /app/.claude/settings.json"});
    config_.volumes = {(root_ / "data").string() + ":/data", (root_ / "data2").string() + ":/data"};
    expect_refused({"\"/data\" is already taken by another mount"});
    // --auth-home inside a protected path of the project.
    config_.volumes = {};
    config_.auth_home = context_.cwd + "/.vscode";
    expect_refused({"(--auth-home) is read-write and is " + context_.cwd + "/.vscode/claude, which lies inside .vscode"});
    // Twins: read-only, and elsewhere.
    config_.auth_home = (root_ / "home" / "auth").string();
    config_.volumes = {root_.string() + ":/host:ro", (root_ / "data").string() + ":/app/data"};
    Plan plan = build();
    EXPECT_TRUE(has_target(plan, "/host"));
    EXPECT_TRUE(has_target(plan, "/app/data"));
}

TEST_F(PlanBuilder, EveryInstalledAgentsProtectedPathsAreReadOnlyWhicheverAgentRuns) {
    load_builtins();
    load_fixture("scripted_agent",
                 {{"names", json::array{"scripted"}},
                  {"answer", json::object{{"argv", json::array{"/bin/true"}},
                                          {"protect", json::array{".scripted.json",
                                                                  json::object{{"path", ".claude/settings.json"},
                                                                               {"reason", "scripted reads it too"}}}}}}});
    for (const std::string agent : {"exec", "scripted", "claude"}) {
        context_.agent = agent;
        context_.agent_args = {"true"};
        context_.agent_args_given = true;
        Plan plan = build();
        auto mount = [&](const std::string &target) {
            auto it = std::find_if(plan.mounts.begin(), plan.mounts.end(),
                                   [&](const PlanMount &m) { return m.target == target; });
            return it == plan.mounts.end() ? nullptr : &*it;
        };
        for (const char *target : {"/app/.claude/settings.json", "/app/.gemini", "/app/.codex",
                                   "/app/.qwen/settings.json", "/app/opencode.json", "/app/.pi", "/app/.clinerules",
                                   "/app/.scripted.json"}) {
            const PlanMount *m = mount(target);
            ASSERT_NE(m, nullptr) << agent << ": " << target << " is not protected";
            EXPECT_TRUE(m->readonly) << agent << ": " << target;
            EXPECT_EQ(m->origin, "protect") << agent << ": " << target;
        }
        // Each entry keeps who protects it and why; one path of two agents names both.
        const PlanMount *claude = mount("/app/.claude/settings.json");
        EXPECT_NE(claude->reason.find("agent claude (plugin agent-claude)"), std::string::npos) << claude->reason;
        EXPECT_NE(claude->reason.find("agent scripted (plugin fixture-agent): scripted reads it too"), std::string::npos)
            << claude->reason;
        EXPECT_NE(mount("/app/.gemini")->reason.find("agent gemini"), std::string::npos);
    }
}

TEST_F(PlanBuilder, MissingMountGuardIsAnInstallationError) {
    load_builtins({"mount-guard.so"});
    expect_refused({"no plugin serves the mount guard", "mount-guard plugin", "mounts nothing unguarded"});
}

// --- malformed answers, per hook ----------------------------------------------------------

class MalformedAnswers : public PlanBuilder {
protected:
    // The build's error when the scripted agent's profile is `answer`.
    std::string agent_error(json::value answer) {
        load_fixture("scripted_agent", {{"names", json::array{"scripted"}}, {"answer", std::move(answer)}});
        context_.agent = "scripted";
        return build_error();
    }
};

void expect_contains(const std::string &message, std::initializer_list<std::string> parts) {
    for (const auto &part : parts)
        EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in: " << message;
}

TEST_F(MalformedAnswers, AgentProfile) {
    load_builtins();
    const std::string doc = "plugin \"fixture-agent\" agent.profile result: ";
    expect_contains(agent_error(json::array{1}), {doc + "/: expected an object", fixture("scripted_agent")});
}

struct Case {
    const char *answer;  // JSON
    const char *error;   // after the document name
};

class AgentAnswer : public MalformedAnswers, public ::testing::WithParamInterface<Case> {};

TEST_P(AgentAnswer, IsRefusedNamingTheField) {
    load_builtins();
    expect_contains(agent_error(json::parse(GetParam().answer)),
                    {std::string("plugin \"fixture-agent\" agent.profile result: ") + GetParam().error});
}

INSTANTIATE_TEST_SUITE_P(
    PlanBuilder, AgentAnswer,
    ::testing::Values(Case{R"({})", "/argv: missing or empty"},
                      Case{R"({"argv": "/bin/true"})", "/argv: expected an array of strings"},
                      Case{R"({"argv": [""]})", "/argv/0: the executable is an empty string"},
                      Case{R"({"argv": ["/bin/true", 3]})", "/argv/1: expected a string"},
                      Case{R"({"argv": ["/bin/true"], "egress": {}})", "/egress: expected an array"},
                      Case{R"({"argv": ["/bin/true"], "egress": [{"entry": "a.test"}]})", "/egress/0/reason: missing"},
                      Case{R"({"argv": ["/bin/true"], "egress": [{"entry": 5, "reason": "r"}]})",
                           "/egress/0/entry: expected a string"},
                      Case{R"({"argv": ["/bin/true"], "egress": [{"entry": "", "reason": "r"}]})",
                           "/egress/0/entry: expected a non-empty string"},
                      Case{R"({"argv": ["/bin/true"], "env": {"A": 1}})", "/env/A: expected a string"},
                      Case{R"({"argv": ["/bin/true"], "env": ["A=1"]})", "/env: expected an object"},
                      Case{R"({"argv": ["/bin/true"], "persist": [{"name": "../x", "target": "/t"}]})",
                           "/persist/0/name: \"../x\" is not a plain directory name"},
                      Case{R"({"argv": ["/bin/true"], "persist": [{"name": "x", "target": "t"}]})",
                           "/persist/0/target: \"t\" is not an absolute path"},
                      Case{R"({"argv": ["/bin/true"], "persist": [{"name": "x"}]})", "/persist/0/target: missing"},
                      Case{R"({"argv": ["/bin/true"], "protect": [".x", null]})", "/protect/1: expected a path or"},
                      Case{R"({"argv": ["/bin/true"], "protect": [{"path": ""}]})", "/protect/0/path: expected a non-empty"},
                      Case{R"({"argv": ["/bin/true"], "decline": [{"host": "Docs.A.test", "reason": "r"}]})",
                           "/decline/0/host: \"Docs.A.test\" is not a host name"},
                      Case{R"({"argv": ["/bin/true"], "decline": [{"host": "a.test"}]})", "/decline/0/reason: missing"},
                      Case{R"({"argv": ["/bin/true"], "egress": [{"entry": "a.test", "reason": "r"}],
                               "decline": [{"host": "a.test", "reason": "r"}]})",
                           "/decline/0/host: \"a.test\" is both declined and an egress entry"},
                      Case{R"({"argv": ["/bin/true"], "vendor_domains": ["test"]})",
                           "/vendor_domains/0: \"test\" is not a domain name"},
                      Case{R"({"argv": ["/bin/true"], "vendor_domains": ["-a.test"]})",
                           "/vendor_domains/0: \"-a.test\" is not a domain name"}));

TEST_F(MalformedAnswers, AgentProfileWithAnOversizedString) {
    load_builtins();
    expect_contains(agent_error(json::object{{"argv", json::array{"/bin/true", std::string(70000, 'x')}}}),
                    {"plugin \"fixture-agent\" agent.profile result: /argv/1: longer than 65536 bytes"});
}

class NetworkAnswer : public PlanBuilder, public ::testing::WithParamInterface<Case> {};

TEST_P(NetworkAnswer, IsRefusedNamingTheField) {
    load_builtins();
    load_scripted_agent();
    config_.allow_domains = {"a.test"};
    config_.firewall = "scripted";
    load_fixture("scripted_net", {{"answer", json::parse(GetParam().answer)}});
    expect_contains(build_error(), {std::string("plugin \"net-scripted\" network.normalize result: ") +
                                        GetParam().error,
                                    fixture("scripted_net")});
}

INSTANTIATE_TEST_SUITE_P(
    PlanBuilder, NetworkAnswer,
    ::testing::Values(
        Case{R"([])", "/: expected an object"},
        Case{R"({})", "/entries: missing"},
        Case{R"({"entries": "a.test"})", "/entries: expected an array"},
        Case{R"({"entries": ["a.test"]})", "/entries/0: expected an object"},
        Case{R"({"entries": [{"kind": "name", "value": "a.test", "ports": [0]}]})",
             "/entries/0/ports: expected port numbers 1-65535"},
        Case{R"({"entries": [{"kind": "name", "value": "a.test", "ports": [70000]}]})",
             "/entries/0/ports: expected port numbers 1-65535"},
        Case{R"({"entries": [{"kind": "name", "value": "a.test", "ports": ["443"]}]})",
             "/entries/0/ports: expected port numbers 1-65535"},
        Case{R"({"entries": [{"kind": "name", "value": "a.test"}]})", "/entries/0/ports: missing"},
        Case{R"({"entries": [{"kind": "host", "value": "a.test", "ports": [443]}]})",
             "/entries/0/kind: \"host\" is not one of name, wildcard, cidr"},
        Case{R"({"entries": [{"kind": "name", "ports": [443]}]})", "/entries/0/value: missing"},
        Case{R"({"entries": [{"kind": "name", "value": "a.test", "ports": [443], "protocol": "icmp"}]})",
             "/entries/0/protocol: \"icmp\" is not one of tcp, udp"},
        Case{R"({"entries": [], "dns_servers": "1.1.1.1"})", "/dns_servers: expected an array of strings"},
        Case{R"({"entries": [], "warnings": [1]})", "/warnings/0: expected a string"}));

TEST_F(MalformedAnswers, NetworkEntryThatNoRequestedEntryProducesIsRefused) {
    load_builtins();
    load_scripted_agent();
    config_.allow_domains = {"a.test", "b.test"};
    config_.firewall = "scripted";
    auto entry = [](const char *value) {
        return json::object{{"kind", "name"}, {"value", value}, {"ports", json::array{443}}};
    };
    auto rule = [&](const char *value) {
        return json::object{{"when", json::object{{"entries", json::array{value}}}},
                            {"answer", json::object{{"entries", json::array{entry(value)}}}}};
    };
    load_fixture("scripted_net",
                 {{"answers", json::array{rule("a.test"), rule("b.test")}},
                  {"answer", json::object{{"entries", json::array{entry("a.test"), entry("evil.test"), entry("b.test")}}}}});
    expect_contains(build_error(), {"plugin \"net-scripted\" network.normalize result: /entries/1: name \"evil.test\"",
                                    "comes from none of the requested entries (a.test, b.test)"});
}

TEST_F(MalformedAnswers, NetworkAnswerWithTooManyEntriesIsRefused) {
    load_builtins();
    load_scripted_agent();
    config_.allow_domains = {"a.test"};
    config_.firewall = "scripted";
    json::array entries;
    for (int i = 0; i < 5000; ++i)
        entries.push_back(json::object{{"kind", "name"}, {"value", "a.test"}, {"ports", json::array{443}}});
    load_fixture("scripted_net", {{"answer", json::object{{"entries", std::move(entries)}}}});
    expect_contains(build_error(), {"plugin \"net-scripted\" network.normalize result: /entries: more than 4096 items"});
}

class ResourceAnswer : public PlanBuilder, public ::testing::WithParamInterface<Case> {};

TEST_P(ResourceAnswer, IsRefusedNamingTheField) {
    load_builtins({"resources.so"});
    load_fixture("scripted_resources", {{"answer", json::parse(GetParam().answer)}});
    expect_contains(build_error(),
                    {std::string("plugin \"fixture-resources\" resource.resolve result: ") + GetParam().error});
}

INSTANTIATE_TEST_SUITE_P(
    PlanBuilder, ResourceAnswer,
    ::testing::Values(
        Case{R"("4g")", "/: expected an object"},
        Case{R"({"cpus": null, "pids": null})", "/memory_bytes: missing (null means no memory limit)"},
        Case{R"({"memory_bytes": null, "pids": null})", "/cpus: missing (null means no CPU limit)"},
        Case{R"({"memory_bytes": null, "cpus": null})", "/pids: missing (null means no process limit)"},
        Case{R"({"memory_bytes": "4g", "cpus": null, "pids": null})", "/memory_bytes: expected an integer"},
        Case{R"({"memory_bytes": 0, "cpus": null, "pids": null})", "/memory_bytes: out of range"},
        Case{R"({"memory_bytes": 1.5, "cpus": null, "pids": null})", "/memory_bytes: expected an integer"},
        Case{R"({"memory_bytes": null, "cpus": "2", "pids": null})", "/cpus: expected a number"},
        Case{R"({"memory_bytes": null, "cpus": -1, "pids": null})", "/cpus: expected a number of CPUs above 0"},
        Case{R"({"memory_bytes": null, "cpus": 1e300, "pids": null})", "/cpus: expected a number of CPUs above 0"},
        Case{R"({"memory_bytes": null, "cpus": null, "pids": 10000000000})", "/pids: out of range"},
        Case{R"({"memory_bytes": null, "cpus": null, "pids": null, "tmp_bytes": 1, "home_bytes": 1,
                 "shm_bytes": 1, "warnings": "w"})",
             "/warnings: expected an array of strings"},
        // The tmpfs sizes are never unlimited.
        Case{R"({"memory_bytes": null, "cpus": null, "pids": null, "home_bytes": 1, "shm_bytes": 1})",
             "/tmp_bytes: missing"},
        Case{R"({"memory_bytes": null, "cpus": null, "pids": null, "tmp_bytes": null, "home_bytes": 1,
                 "shm_bytes": 1})",
             "/tmp_bytes: missing"},
        Case{R"({"memory_bytes": null, "cpus": null, "pids": null, "tmp_bytes": 1, "home_bytes": 0,
                 "shm_bytes": 1})",
             "/home_bytes: out of range"},
        Case{R"({"memory_bytes": null, "cpus": null, "pids": null, "tmp_bytes": 1, "home_bytes": 1})",
             "/shm_bytes: missing"}));

TEST_F(PlanBuilder, ResourceAnswerIsTakenAsGiven) {
    load_builtins({"resources.so"});
    load_fixture("scripted_resources",
                 {{"answer", json::object{{"memory_bytes", 1 << 30}, {"cpus", 1}, {"pids", nullptr},
                                          {"tmp_bytes", 1 << 28}, {"home_bytes", 1 << 27}, {"shm_bytes", 1 << 26},
                                          {"warnings", json::array{"fixture warning"}}}}});
    Plan plan = build();
    EXPECT_EQ(plan.resources.memory_bytes, 1 << 30);
    EXPECT_EQ(plan.resources.tmp_bytes, 1 << 28);
    EXPECT_EQ(plan.resources.home_bytes, 1 << 27);
    EXPECT_EQ(plan.resources.shm_bytes, 1 << 26);
    EXPECT_EQ(plan.resources.cpus, 1.0);
    EXPECT_FALSE(plan.resources.pids.has_value());
    EXPECT_NE(std::find(plan.warnings.begin(), plan.warnings.end(), "fixture warning"), plan.warnings.end());
}

class SyscallAnswer : public PlanBuilder, public ::testing::WithParamInterface<Case> {};

TEST_P(SyscallAnswer, IsRefusedNamingTheField) {
    load_builtins({"seccomp.so"});
    load_fixture("scripted_seccomp", {{"answer", json::parse(GetParam().answer)}});
    expect_contains(build_error(), {std::string("plugin \"seccomp\" syscall.prepare result: ") + GetParam().error,
                                    fixture("scripted_seccomp")});
}

INSTANTIATE_TEST_SUITE_P(
    PlanBuilder, SyscallAnswer,
    ::testing::Values(Case{R"(null)", "/: expected an object"},
                      Case{R"({})", "/mode: missing"},
                      Case{R"({"mode": 1})", "/mode: expected a string"},
                      Case{R"({"mode": "strict"})", "/mode: \"strict\" is not one of default, profile, none"},
                      Case{R"({"mode": "profile"})", "/profile: expected a seccomp profile object in the engine JSON format"},
                      Case{R"({"mode": "profile", "profile": "x.json"})",
                           "/profile: expected a seccomp profile object in the engine JSON format"},
                      Case{R"({"mode": "default", "profile": {}})", "/profile: expected null (mode is \"default\")"},
                      Case{R"({"mode": "default", "engine_profile": "x"})",
                           "/engine_profile: expected a seccomp profile object in the engine JSON format, or null"}));

TEST_F(PlanBuilder, SyscallAnswerIsTakenAsGiven) {
    load_builtins({"seccomp.so"});
    load_fixture("scripted_seccomp", {{"answer", json::object{{"mode", "none"}, {"warnings", json::array{"off"}}}}});
    Plan plan = build();
    EXPECT_EQ(plan.syscalls.plugin, "seccomp");
    EXPECT_EQ(plan.syscalls.mode, "none");
    EXPECT_TRUE(plan.syscalls.engine_profile.is_null());
}

class MountAnswer : public PlanBuilder, public ::testing::WithParamInterface<Case> {};

TEST_P(MountAnswer, IsRefusedNamingTheField) {
    load_builtins();
    load_fixture("scripted_mount", {{"answer", json::parse(GetParam().answer)}});
    expect_contains(build_error(), {std::string("plugin \"fixture-mount\" mount.judge result: ") + GetParam().error});
}

INSTANTIATE_TEST_SUITE_P(
    PlanBuilder, MountAnswer,
    ::testing::Values(Case{R"(["allow"])", "/: expected an object"},
                      Case{R"({})", "/verdict: missing"},
                      Case{R"({"verdict": true})", "/verdict: expected a string"},
                      Case{R"({"verdict": "maybe"})", "/verdict: \"maybe\" is not one of allow, refuse"},
                      Case{R"({"verdict": "refuse"})", "/rule: missing"},
                      Case{R"({"verdict": "refuse", "rule": "r"})", "/reason: missing"},
                      Case{R"({"verdict": "refuse", "rule": "", "reason": "x"})",
                           "/rule: expected a non-empty string"}));

// --- each allow entry's reason comes from the entries it was normalised from ---------------

TEST_F(PlanBuilder, ReasonsMatchExactEntriesNotSubstrings) {
    load_builtins();
    load_scripted_agent(json::array{json::object{{"entry", "example.com"}, {"reason", "the example API"}}});
    config_.allow_domains = {"notexample.com", "*.example.com"};
    Plan plan = build();
    ASSERT_EQ(plan.network.allow.size(), 3u);
    EXPECT_EQ(allow_entry(plan, "example.com")->reason, "required by agent: the example API");
    EXPECT_EQ(allow_entry(plan, "notexample.com")->reason, "allowed by you (--allow-domains / config)");
    EXPECT_EQ(allow_entry(plan, "*.example.com")->reason, "allowed by you (--allow-domains / config)");
}

TEST_F(PlanBuilder, ReasonsOfTheOtherDirection) {
    load_builtins();
    load_scripted_agent(json::array{json::object{{"entry", "notexample.com"}, {"reason", "n"}},
                                    json::object{{"entry", "*.example.com"}, {"reason", "w"}}});
    config_.allow_domains = {"example.com"};
    Plan plan = build();
    EXPECT_EQ(allow_entry(plan, "example.com")->reason, "allowed by you (--allow-domains / config)");
    EXPECT_EQ(allow_entry(plan, "notexample.com")->reason, "required by agent: n");
    EXPECT_EQ(allow_entry(plan, "*.example.com")->reason, "required by agent: w");
}

TEST_F(PlanBuilder, EntriesThatNormaliseToOneEntryShareTheirReasons) {
    load_builtins();
    load_scripted_agent(json::array{json::object{{"entry", "Example.COM."}, {"reason", "the example API"}}});
    config_.allow_domains = {"example.com:8443", "sub.example.com"};
    Plan plan = build();
    ASSERT_EQ(plan.network.allow.size(), 2u);
    const PlanEgress *merged = allow_entry(plan, "example.com");
    ASSERT_NE(merged, nullptr);
    EXPECT_EQ(merged->ports, (std::vector<std::uint16_t>{80, 443, 8443}));
    EXPECT_EQ(merged->reason, "allowed by you (--allow-domains / config); required by agent: the example API");
    EXPECT_EQ(allow_entry(plan, "sub.example.com")->reason, "allowed by you (--allow-domains / config)");
}

TEST_F(PlanBuilder, ReasonsAreExactWithTheIptablesFirewallToo) {
    load_builtins();
    config_.firewall = "iptables";
    load_scripted_agent(json::array{json::object{{"entry", "example.com"}, {"reason", "the example API"}}});
    config_.allow_domains = {"notexample.com"};
    Plan plan = build();
    EXPECT_EQ(allow_entry(plan, "example.com")->reason, "required by agent: the example API");
    EXPECT_EQ(allow_entry(plan, "notexample.com")->reason, "allowed by you (--allow-domains / config)");
}

}  // namespace
}  // namespace rustyolo
