// The firewall-independent part of the self-test: its result form and the stub probe's name. (The
// probes themselves need the firewall in a container: tests/integration/network/.)
#include "plugins/net-common/agent_probes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

TEST(NetSelfTest, ChecksRenderAsTheHooksResult) {
    json::value v = checks_to_json({Check{"a", true, "fine"}});
    EXPECT_EQ(json::serialize(v), R"({"checks":[{"name":"a","ok":true,"detail":"fine"}]})");
}

// The stub probe's name is new in each session (the agent cannot guess it, so it cannot hide its
// queries under it) and a valid name of the reserved .invalid domain.
TEST(NetSelfTest, TheStubProbesNameIsRandomPerSession) {
    const std::string a = random_self_test_name(), b = random_self_test_name();
    EXPECT_NE(a, b);
    for (const std::string &name : {a, b}) {
        ASSERT_EQ(name.size(), std::string("rustyolo-self-test-0123456789abcdef.invalid").size()) << name;
        EXPECT_EQ(name.rfind("rustyolo-self-test-", 0), 0u) << name;
        EXPECT_TRUE(name.ends_with(".invalid")) << name;
    }
    EXPECT_NE(a, "rustyolo-self-test.invalid");
}

}  // namespace
}  // namespace rustyolo::net
