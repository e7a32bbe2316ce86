#include <rustyolo/sdk/plan.hpp>

#include <gtest/gtest.h>

namespace rustyolo {
namespace {

namespace json = boost::json;

Plan full_plan() {
    Plan plan;
    plan.session = "0123456789ab";
    plan.image = "rustyolo:latest";
    plan.runtime = "docker";
    plan.project = "/home/u/project";
    plan.agent = PlanAgent{"claude", "agent-claude", {"claude", "--dangerously-skip-permissions"}};
    plan.user = PlanUser{1000, 1001, "agent", "/home/agent"};
    plan.env = {PlanEnv{"ANTHROPIC_API_KEY", std::nullopt}, PlanEnv{"FOO", "bar=baz"}};
    plan.mounts = {PlanMount{"/home/u/project", "/app", false, "project", "the project", false, "2049:12"},
                   PlanMount{"/home/u/project/.envrc", "/app/.envrc", true, "protect", "read-only", true, "2049:77"}};
    plan.resources = PlanResources{4294967296, 0.5, 256, 1073741824, 536870912, 67108864};
    plan.network.mode = "filter";
    plan.network.allow = {PlanEgress{"name", "api.anthropic.com", {443, 80}, "tcp", "the Claude API"},
                          PlanEgress{"wildcard", "*.github.com", {443}, "tcp", "you"},
                          PlanEgress{"cidr", "10.1.0.0/16", {22}, "tcp", "you"}};
    plan.network.dns_servers = {"172.29.0.2"};
    plan.network.allow_lan = true;
    plan.network.engine_network = "testnet";
    plan.syscalls.mode = "profile";
    plan.syscalls.profile = json::object{{"defaultAction", "SCMP_ACT_ALLOW"}};
    plan.syscalls.engine_profile =
        json::object{{"defaultAction", "SCMP_ACT_ERRNO"},
                     {"syscalls", json::array{json::object{{"names", json::array{"mount"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
    plan.audit.level = "verbose";
    plan.container_plugins = {"net-nftables", "seccomp"};
    plan.warnings = {"careful"};
    plan.created_paths = {"/home/u/project/.envrc"};
    plan.lifeline = true;
    return plan;
}

TEST(Plan, SerialisationRoundTripsThroughText) {
    Plan plan = full_plan();
    EXPECT_EQ(parse_plan(json::serialize(to_json(plan))), plan);
}

TEST(Plan, SerialisationRoundTripsInMemory) {
    Plan plan = full_plan();
    EXPECT_EQ(plan_from_json(to_json(plan)), plan);
}

TEST(Plan, UnlimitedResourcesRoundTripAsNull) {
    Plan plan = full_plan();
    plan.resources = PlanResources{};
    json::value value = to_json(plan);
    EXPECT_TRUE(value.at("resources").at("memory_bytes").is_null());
    EXPECT_EQ(parse_plan(json::serialize(value)), plan);
}

TEST(Plan, WithoutAnEngineProfileRoundTripsAsNull) {
    Plan plan = full_plan();
    plan.syscalls.engine_profile = nullptr;
    json::value value = to_json(plan);
    EXPECT_TRUE(value.at("syscalls").at("engine_profile").is_null());
    EXPECT_EQ(parse_plan(json::serialize(value)), plan);
    // A Plan written before the field existed reads as "the engine's default".
    value.as_object()["syscalls"].as_object().erase("engine_profile");
    EXPECT_TRUE(plan_from_json(value).syscalls.engine_profile.is_null());
}

TEST(Plan, CarriesItsSchemaVersion) { EXPECT_EQ(to_json(full_plan()).at("schema").as_int64(), kPlanSchema); }

TEST(Plan, OtherSchemaIsRefusedWithTheRebuildHint) {
    json::value value = to_json(full_plan());
    value.as_object()["schema"] = kPlanSchema + 1;
    try {
        plan_from_json(value);
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("rustyolo image build"), std::string::npos) << e.what();
    }
}

// Each malformed field is refused with its JSON path.
TEST(Plan, MalformedFieldsAreRefusedNamingTheirPath) {
    struct Case {
        const char *path;
        std::function<void(json::object &)> breakit;
    };
    std::vector<Case> cases{
        {"/user/uid", [](json::object &p) { p["user"].as_object()["uid"] = 0; }},
        {"/user/uid", [](json::object &p) { p["user"].as_object()["uid"] = "1000"; }},
        {"/agent/argv", [](json::object &p) { p["agent"].as_object()["argv"] = json::array{}; }},
        {"/network/mode", [](json::object &p) { p["network"].as_object()["mode"] = "open"; }},
        {"/syscalls/engine_profile", [](json::object &p) { p["syscalls"].as_object()["engine_profile"] = "default"; }},
        {"/network/allow/0/kind", [](json::object &p) {
             p["network"].as_object()["allow"].as_array()[0].as_object()["kind"] = "regex";
         }},
        {"/network/allow/0/ports", [](json::object &p) {
             p["network"].as_object()["allow"].as_array()[0].as_object()["ports"] = json::array{70000};
         }},
        {"/syscalls/mode", [](json::object &p) { p["syscalls"].as_object()["mode"] = "off"; }},
        {"/audit/level", [](json::object &p) { p["audit"].as_object()["level"] = "loud"; }},
        {"/mounts/1/target", [](json::object &p) { p["mounts"].as_array()[1].as_object().erase("target"); }},
        {"/session", [](json::object &p) { p.erase("session"); }},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.path);
        json::value value = to_json(full_plan());
        c.breakit(value.as_object());
        try {
            plan_from_json(value);
            ADD_FAILURE() << "accepted";
        } catch (const std::runtime_error &e) {
            EXPECT_NE(std::string(e.what()).find(c.path), std::string::npos) << e.what();
        }
    }
}

TEST(Plan, InvalidJsonIsRefused) { EXPECT_THROW(parse_plan("{not json"), std::runtime_error); }

}  // namespace
}  // namespace rustyolo
