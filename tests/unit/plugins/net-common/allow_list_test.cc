#include "plugins/net-common/allow_list.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace rustyolo::net {
namespace {

using Ports = std::vector<std::uint16_t>;

TEST(DnsFilterAllowList, ExactNameMatchesOnlyItself) {
    AllowList list;
    list.add("api.example.com", {443});
    EXPECT_EQ(list.match("api.example.com"), Ports{443});
    EXPECT_FALSE(list.match("example.com"));
    EXPECT_FALSE(list.match("x.api.example.com"));
    EXPECT_FALSE(list.match("xapi.example.com"));
    EXPECT_FALSE(list.match("api.example.co"));
}

TEST(DnsFilterAllowList, MatchingIgnoresCaseAndOneTrailingDot) {
    AllowList list;
    list.add("API.Example.com.", {80, 443});
    EXPECT_EQ(list.match("api.example.com"), (Ports{80, 443}));
    EXPECT_EQ(list.match("API.EXAMPLE.COM."), (Ports{80, 443}));
    EXPECT_FALSE(list.match("api.example.com.."));
}

TEST(DnsFilterAllowList, WildcardMatchesSubdomainsOnly) {
    AllowList list;
    list.add("*.a.test", {443});
    EXPECT_EQ(list.match("x.a.test"), Ports{443});
    EXPECT_EQ(list.match("y.x.a.test"), Ports{443});
    EXPECT_EQ(list.match("X.A.TEST."), Ports{443});
    EXPECT_FALSE(list.match("a.test"));
    EXPECT_FALSE(list.match("xa.test"));
    EXPECT_FALSE(list.match("a.test.evil"));
    EXPECT_FALSE(list.match(".a.test"));
    EXPECT_FALSE(list.match("test"));
}

TEST(DnsFilterAllowList, PortsOfEveryMatchingEntryAreUnited) {
    AllowList list;
    list.add("*.a.test", {443});
    list.add("*.x.a.test", {8443});
    list.add("y.x.a.test", {80});
    EXPECT_EQ(list.match("y.x.a.test"), (Ports{80, 443, 8443}));
    EXPECT_EQ(list.match("z.x.a.test"), (Ports{443, 8443}));
    EXPECT_EQ(list.match("x.a.test"), Ports{443});
}

TEST(DnsFilterAllowList, TheSameNameTwiceUnitesPorts) {
    AllowList list;
    list.add("a.test", {443});
    list.add("A.test.", {80});
    EXPECT_EQ(list.match("a.test"), (Ports{80, 443}));
}

TEST(DnsFilterAllowList, RejectsNamesThatAreNotNamesOrWildcards) {
    AllowList list;
    for (const char *bad : {"", ".", "*", "*.", "a.*.test", "**.test", "a..test", ".a.test", "*.*.test"})
        EXPECT_THROW(list.add(bad, {443}), std::invalid_argument) << bad;
}

TEST(DnsFilterAllowList, EmptyListMatchesNothing) {
    AllowList list;
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(list.match("a.test"));
    EXPECT_FALSE(list.match(""));
}

TEST(DnsFilterAllowList, NormalisesNames) {
    EXPECT_EQ(normalize_name("API.Example.COM."), "api.example.com");
    EXPECT_EQ(normalize_name("a.test"), "a.test");
    EXPECT_EQ(normalize_name("."), "");
}

}  // namespace
}  // namespace rustyolo::net
