#include "plugins/net-common/network_setup.hpp"
#include "plugins/net-common/resolv_conf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

namespace rustyolo::net {
namespace {

Plan plan_with(std::vector<PlanEgress> allow, std::vector<std::string> dns_servers = {"1.1.1.1"},
               bool allow_lan = false, std::string mode = "filter") {
    Plan plan;
    plan.user.uid = 1000;
    plan.user.gid = 1000;
    plan.network.mode = std::move(mode);
    plan.network.allow = std::move(allow);
    plan.network.dns_servers = std::move(dns_servers);
    plan.network.allow_lan = allow_lan;
    return plan;
}

PlanEgress entry(std::string kind, std::string value, std::vector<std::uint16_t> ports = {80, 443}) {
    PlanEgress e;
    e.kind = std::move(kind);
    e.value = std::move(value);
    e.ports = std::move(ports);
    return e;
}

bool has_args(const std::vector<std::string> &args, const std::string &option, const std::string &value) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == option && args[i + 1] == value)
            return true;
    return false;
}

TEST(NetNetworkSetup, NamesGoToTheFilterAndCidrsToTheFirewall) {
    NetworkSetup setup = make_network_setup(
        plan_with({entry("name", "api.example.com"), entry("wildcard", "*.cdn.example.com", {443}),
                   entry("cidr", "203.0.113.0/24", {8443}), entry("cidr", "2001:db8::/32", {443})}),
        {});
    EXPECT_TRUE(has_args(setup.filter_args, "--allow", "api.example.com=80,443"));
    EXPECT_TRUE(has_args(setup.filter_args, "--allow", "*.cdn.example.com=443"));
    EXPECT_TRUE(has_args(setup.filter_args, "--upstream", "1.1.1.1:53"));
    EXPECT_TRUE(has_args(setup.filter_args, "--mode", "filter"));
    EXPECT_TRUE(has_args(setup.filter_args, "--udp-fd", "3"));
    EXPECT_TRUE(has_args(setup.filter_args, "--ack-fd", "6"));
    ASSERT_EQ(setup.spec.static_ranges.size(), 2u);
    EXPECT_EQ(setup.spec.static_ranges[0].prefix, "203.0.113.0/24");
    EXPECT_TRUE(setup.spec.static_ranges[1].v6);
    EXPECT_EQ(setup.policy.ports, (std::vector<std::uint16_t>{80, 443}));  // CIDR ports are not the feed's
    EXPECT_EQ(setup.names, 1u);
    EXPECT_EQ(setup.wildcards, 1u);
    EXPECT_EQ(setup.cidrs, 2u);
    EXPECT_EQ(setup.spec.agent_uid, 1000u);
}

TEST(NetNetworkSetup, EngineResolversAreUsedWhenThePlanNamesNone) {
    NetworkSetup setup = make_network_setup(plan_with({}, {}), {"127.0.0.11", "10.0.0.2", "127.0.0.11"});
    ASSERT_EQ(setup.spec.upstreams.size(), 2u);
    EXPECT_EQ(setup.spec.upstreams[0], (Resolver{false, "127.0.0.11", 53}));
    EXPECT_TRUE(uses_engine_resolver(setup.spec));
}

TEST(NetNetworkSetup, ResolverPortsAndFamilies) {
    EXPECT_EQ(parse_resolver("1.1.1.1:5353"), (Resolver{false, "1.1.1.1", 5353}));
    EXPECT_EQ(parse_resolver("[2606:4700::1111]:53"), (Resolver{true, "2606:4700::1111", 53}));
    EXPECT_EQ(parse_resolver("2606:4700:0::1111"), (Resolver{true, "2606:4700::1111", 53}));
}

TEST(NetNetworkSetup, RefusesWhatTheHostWouldNeverPutInAPlan) {
    EXPECT_THROW(make_network_setup(plan_with({}, {}), {}), std::runtime_error);              // no resolver
    EXPECT_THROW(make_network_setup(plan_with({}, {}), {"127.0.0.1"}), std::runtime_error);   // the stub itself
    EXPECT_THROW(make_network_setup(plan_with({}, {"any"}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("cidr", "127.0.0.0/8")}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("cidr", "169.254.169.254/32")}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("cidr", "10.0.0.0/8")}), {}), std::runtime_error);
    EXPECT_NO_THROW(make_network_setup(plan_with({entry("cidr", "10.0.0.0/8")}, {"1.1.1.1"}, true), {}));
    EXPECT_THROW(make_network_setup(plan_with({entry("cidr", "10.0.0.0/40")}, {"1.1.1.1"}, true), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("name", "a.test", {})}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("name", "a.test", {0})}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("name", "a.test=1,2")}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({entry("regex", "a.*")}), {}), std::runtime_error);
    PlanEgress udp = entry("name", "a.test");
    udp.protocol = "udp";
    EXPECT_THROW(make_network_setup(plan_with({udp}), {}), std::runtime_error);
    EXPECT_THROW(make_network_setup(plan_with({}, {"1.1.1.1"}, false, "open"), {}), std::runtime_error);
}

TEST(NetNetworkSetup, ModeAnyOpensTheDefaultPortsForUnlistedNames) {
    NetworkSetup setup = make_network_setup(plan_with({entry("name", "a.test", {8443})}, {}, false, "any"), {"9.9.9.9"});
    EXPECT_TRUE(has_args(setup.filter_args, "--mode", "any"));
    EXPECT_EQ(setup.policy.ports, (std::vector<std::uint16_t>{80, 443, 8443}));
}

TEST(NetResolvConf, ReadsNameserversAndSkipsScopedOnes) {
    std::string text = "# generated\nsearch example.com\nnameserver 127.0.0.11\n"
                       "nameserver fe80::1%eth0\n  nameserver   10.0.0.2   # office\n;nameserver 6.6.6.6\n"
                       "options ndots:0\nnameserver\n";
    EXPECT_EQ(parse_nameservers(text), (std::vector<std::string>{"127.0.0.11", "10.0.0.2"}));
    EXPECT_TRUE(parse_nameservers("").empty());
}

TEST(NetResolvConf, TheStubConfigurationNamesOnlyTheFilter) {
    EXPECT_EQ(parse_nameservers(stub_resolv_conf), std::vector<std::string>{"127.0.0.1"});
}

}  // namespace
}  // namespace rustyolo::net
