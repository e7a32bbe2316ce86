// The never-allowed ranges both firewalls guard, and when root may reach port 53.
#include "plugins/net-common/firewall_spec.hpp"

#include "plugins/net-common/allow_entry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace rustyolo::net {
namespace {

bool has(const std::vector<std::string> &ranges, const std::string &range) {
    return std::find(ranges.begin(), ranges.end(), range) != ranges.end();
}

TEST(NetFirewallSpec, TheGuardCoversMetadataAndLoopbackAlwaysAndPrivateRangesUnlessAllowLan) {
    for (bool allow_lan : {false, true}) {
        const auto v4 = never_ranges_v4(allow_lan), v6 = never_ranges_v6(allow_lan);
        for (const char *range : {"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"})
            EXPECT_TRUE(has(v4, range)) << range << " allow_lan " << allow_lan;
        for (const char *range : {"::/128", "::1/128", "::ffff:0:0/96", "fe80::/10", "ff00::/8"})
            EXPECT_TRUE(has(v6, range)) << range << " allow_lan " << allow_lan;
        for (const char *range : {"10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"})
            EXPECT_EQ(has(v4, range), !allow_lan) << range;
        for (const char *range : {"fc00::/7", "fec0::/10"})
            EXPECT_EQ(has(v6, range), !allow_lan) << range;
    }
}

// The guard and the address admission agree: every guarded range is one the classification
// refuses (loopback, link-local/reserved, or private without allow_lan).
TEST(NetFirewallSpec, EveryGuardedRangeIsOneTheClassificationRefuses) {
    std::vector<std::string> ranges = never_ranges_v4(false);
    for (const std::string &range : never_ranges_v6(false))
        ranges.push_back(range);
    for (const std::string &range : ranges) {
        auto prefix = parse_address(range.substr(0, range.find('/')));
        ASSERT_TRUE(prefix) << range;
        prefix->length = static_cast<unsigned>(std::stoul(range.substr(range.find('/') + 1)));
        EXPECT_TRUE(is_loopback(*prefix) || is_link_local(*prefix) || is_private(*prefix)) << range;
    }
}

TEST(NetFirewallSpec, RootReachesPort53OnlyWhenTheEnginesResolverIsAnUpstream) {
    FirewallSpec spec;
    spec.upstreams = {{false, "1.1.1.1", 53}, {true, "2606:4700::1111", 53}};
    EXPECT_FALSE(uses_engine_resolver(spec));
    spec.upstreams.push_back({false, "127.0.0.11", 53});
    EXPECT_TRUE(uses_engine_resolver(spec));
}

}  // namespace
}  // namespace rustyolo::net
