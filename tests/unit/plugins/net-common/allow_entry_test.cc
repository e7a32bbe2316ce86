#include "plugins/net-common/allow_entry.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo::net {
namespace {

using Ports = std::vector<std::uint16_t>;
const Ports web = {80, 443};

std::string entry_error(const std::string &text, bool allow_lan = false) {
    try {
        parse_allow_entry(text, allow_lan);
    } catch (const sdk::InvalidInput &e) {
        return e.what();
    }
    return "";
}

struct Valid {
    std::string text;
    bool allow_lan;
    std::string kind;
    std::string value;
    Ports ports;
};

void expect_valid(const std::vector<Valid> &cases) {
    for (const Valid &c : cases) {
        SCOPED_TRACE(c.text);
        AllowEntry entry = parse_allow_entry(c.text, c.allow_lan);
        EXPECT_EQ(entry.kind, c.kind);
        EXPECT_EQ(entry.value, c.value);
        EXPECT_EQ(entry.ports, c.ports);
        EXPECT_EQ(entry.protocol, "tcp");
    }
}

void expect_rejected(const std::vector<std::string> &texts, bool allow_lan = false) {
    for (const std::string &text : texts) {
        SCOPED_TRACE(text);
        std::string message = entry_error(text, allow_lan);
        ASSERT_FALSE(message.empty()) << "accepted";
        EXPECT_EQ(message.rfind("allow entry \"", 0), 0u) << message;
    }
}

// --- names ---------------------------------------------------------------------------------------

TEST(AllowEntry, NameWithoutPortMeansTcp80And443) {
    expect_valid({{"example.com", false, "name", "example.com", web}});
}

TEST(AllowEntry, NamesAreLowercasedAndLoseOneTrailingDot) {
    expect_valid({{"Example.COM.", false, "name", "example.com", web},
                  {"API.GitHub.com", false, "name", "api.github.com", web}});
}

TEST(AllowEntry, NameWithPortMeansThatPortOnly) {
    expect_valid({{"api.example.com:8443", false, "name", "api.example.com", {8443}},
                  {"example.com:1", false, "name", "example.com", {1}},
                  {"example.com:65535", false, "name", "example.com", {65535}}});
}

TEST(AllowEntry, ValidLabelsAreAccepted) {
    std::string label63(63, 'a');
    std::string long_name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');  // 253
    expect_valid({{"xn--bcher-kva.example", false, "name", "xn--bcher-kva.example", web},
                  {"a-b.c0.io", false, "name", "a-b.c0.io", web},
                  {"1password.com", false, "name", "1password.com", web},
                  {label63 + ".com", false, "name", label63 + ".com", web},
                  {long_name, false, "name", long_name, web}});
}

TEST(AllowEntry, SingleLabelNamesAreRefusedWithReason) {
    for (const char *text : {"localhost", "intranet", "LOCALHOST.", "com"}) {
        SCOPED_TRACE(text);
        std::string message = entry_error(text);
        EXPECT_NE(message.find("single-label"), std::string::npos) << message;
    }
}

TEST(AllowEntry, MalformedNamesAreRefused) {
    expect_rejected({"a..com", ".a.com", "a.com..", "a-.com", "a.-b.com", "ex_ample.com", std::string(64, 'a') + ".com",
                     std::string(250, 'a').insert(60, ".").insert(120, ".").insert(180, ".") + ".com", "1.2.3",
                     "example.123", "a.b/c"});
}

TEST(AllowEntry, NonAsciiNamesMustBePunycode) {
    std::string message = entry_error("bücher.example");
    EXPECT_NE(message.find("punycode"), std::string::npos) << message;
}

// --- wildcards -----------------------------------------------------------------------------------

TEST(AllowEntry, WildcardCoversSubdomains) {
    expect_valid({{"*.example.com", false, "wildcard", "*.example.com", web},
                  {"*.Example.com.", false, "wildcard", "*.example.com", web},
                  {"*.example.com:22", false, "wildcard", "*.example.com", {22}}});
}

TEST(AllowEntry, WildcardNeedsTwoLabelsAfterTheStar) {
    for (const char *text : {"*.com", "*.com.", "*.io:443"}) {
        SCOPED_TRACE(text);
        std::string message = entry_error(text);
        EXPECT_NE(message.find("at least two labels"), std::string::npos) << message;
    }
}

TEST(AllowEntry, StarAnywhereElseIsRefused) {
    expect_rejected({"*", "*.", "**.example.com", "a.*.com", "*example.com", "ex*.com", "example.*", "*.*.com",
                     "*.example.com*"});
}

TEST(AllowEntry, LoneStarExplainsItWouldAllowEverything) {
    EXPECT_NE(entry_error("*").find("every name"), std::string::npos);
}

// --- addresses and networks ----------------------------------------------------------------------

TEST(AllowEntry, PublicAddressesAndNetworksBecomeCidrs) {
    expect_valid({{"1.2.3.4", false, "cidr", "1.2.3.4/32", web},
                  {"1.2.3.4:22", false, "cidr", "1.2.3.4/32", {22}},
                  {"8.8.0.0/16", false, "cidr", "8.8.0.0/16", web},
                  {"8.8.0.0/16:53", false, "cidr", "8.8.0.0/16", {53}},
                  {"2001:db8::/32", false, "cidr", "2001:db8::/32", web},
                  {"2001:DB8::1", false, "cidr", "2001:db8::1/128", web},
                  {"[2001:db8::1]:443", false, "cidr", "2001:db8::1/128", {443}},
                  {"[2001:db8::1]", false, "cidr", "2001:db8::1/128", web},
                  {"[2001:db8::/48]:22", false, "cidr", "2001:db8::/48", {22}},
                  {"::ffff:1.2.3.4", false, "cidr", "1.2.3.4/32", web}});
}

TEST(AllowEntry, PrivateRangesNeedAllowLan) {
    for (const char *text : {"10.0.0.0/8", "10.1.2.3", "172.16.0.0/12", "172.20.1.1:22", "192.168.1.0/24",
                             "100.64.0.1", "fd00::/8", "[fd12::1]:443", "::ffff:10.0.0.1", "64:ff9b::a00:1",
                             "8.0.0.0/5"}) {
        SCOPED_TRACE(text);
        std::string message = entry_error(text);
        EXPECT_NE(message.find("--allow-lan"), std::string::npos) << message;
        EXPECT_NO_THROW(parse_allow_entry(text, true));
    }
}

TEST(AllowEntry, LoopbackLinkLocalAndMulticastAreRefusedEvenWithAllowLan) {
    expect_rejected({"127.0.0.1", "127.0.0.0/8", "0.0.0.0", "0.0.0.0/0", "169.254.169.254", "169.254.0.0/16",
                     "fe80::1", "::1", "::", "::/0", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
                     "64:ff9b::a9fe:a9fe", "224.0.0.1", "255.255.255.255", "ff02::1", "128.0.0.0/1"},
                    true);
}

TEST(AllowEntry, MetadataAddressReasonMentionsTheMetadataService) {
    EXPECT_NE(entry_error("169.254.169.254", true).find("metadata"), std::string::npos);
}

TEST(AllowEntry, HostBitsInCidrAreRefusedWithTheNetworkSuggested) {
    std::string message = entry_error("8.8.8.8/16");
    EXPECT_NE(message.find("did you mean 8.8.0.0/16?"), std::string::npos) << message;
}

TEST(AllowEntry, MalformedAddressesAreRefused) {
    expect_rejected({"256.1.1.1", "01.2.3.4", "1.2.3.4/33", "1.2.3.4/", "2001:db8::/129", "[1.2.3.4]:80",
                     "[2001:db8::1", "[2001:db8::1]443", "2001:db8::1:443:x", "1.2.3.4/+8", "/8", "123.456"});
}

// --- ports ---------------------------------------------------------------------------------------

TEST(AllowEntry, BadPortsAreRefused) {
    expect_rejected({"x.com:0", "x.com:65536", "x.com:", "x.com:http", "x.com:80-90", "x.com:+80", "x.com:443:22",
                     "x.com:999999", "[2001:db8::1]:0"});
}

// --- hostile and confused input ------------------------------------------------------------------

TEST(AllowEntry, ShellMetacharactersAreRefused) {
    for (const char *text : {"x.com;rm -rf ~", "x.com|nc", "$(id).com", "`id`.com", "x.com&", "x.com>f",
                             "x.com'", "x.com\"", "x.com\\", "{a,b}.com", "x.com#"}) {
        SCOPED_TRACE(text);
        std::string message = entry_error(text);
        EXPECT_FALSE(message.empty());
    }
    EXPECT_NE(entry_error("x.com;id").find("shell metacharacter ';'"), std::string::npos);
}

TEST(AllowEntry, WhitespaceAndControlCharactersAreRefused) {
    expect_rejected({" x.com", "x.com ", "x .com", "x.com\n", "x.com\t", std::string("x.com\0", 6)});
}

TEST(AllowEntry, LeadingDashIsRefused) {
    expect_rejected({"-x.com", "--allow-all", "-"});
}

TEST(AllowEntry, EmptyAndOverLongEntriesAreRefused) {
    expect_rejected({"", std::string(301, 'a')});
}

TEST(AllowEntry, UrlsAreRefusedWithTheHostSuggested) {
    struct Case {
        const char *text;
        const char *suggestion;
    };
    for (const Case &c : std::vector<Case>{{"https://x.com", "x.com"},
                                           {"https://X.com/path?q=1", "x.com"},
                                           {"http://user@x.com:8080/", "x.com:8080"},
                                           {"https://x.com:443/", "x.com"}}) {
        SCOPED_TRACE(c.text);
        std::string message = entry_error(c.text);
        EXPECT_NE(message.find("URL"), std::string::npos) << message;
        EXPECT_EQ(message.substr(message.size() - std::string(c.suggestion).size()), c.suggestion) << message;
    }
}

TEST(AllowEntry, PathAfterNameIsRefusedWithTheHostSuggested) {
    std::string message = entry_error("x.com/path");
    EXPECT_NE(message.find("x.com"), std::string::npos) << message;
}

TEST(AllowEntry, UserAtHostIsRefused) { expect_rejected({"user@x.com"}); }

TEST(AllowEntry, ErrorsNameTheValue) {
    std::string message = entry_error("localhost");
    EXPECT_EQ(message.rfind("allow entry \"localhost\": ", 0), 0u) << message;
}

// --- normalisation of a list ---------------------------------------------------------------------

TEST(AllowEntry, DuplicatesAreMergedWithPortsUnioned) {
    auto entries = normalize_allow_entries({"x.com:22", "X.com", "x.com:22", "x.com."}, false);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].value, "x.com");
    EXPECT_EQ(entries[0].ports, (Ports{22, 80, 443}));
}

TEST(AllowEntry, DifferentKindsAreNotMerged) {
    auto entries = normalize_allow_entries({"x.com", "*.x.com", "1.2.3.4", "1.2.3.4/32:22"}, false);
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].kind, "name");
    EXPECT_EQ(entries[1].kind, "wildcard");
    EXPECT_EQ(entries[2].kind, "cidr");
    EXPECT_EQ(entries[2].ports, (Ports{22, 80, 443}));
}

TEST(AllowEntry, OrderOfFirstAppearanceIsKept) {
    auto entries = normalize_allow_entries({"b.com", "a.com", "b.com:8080"}, false);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].value, "b.com");
    EXPECT_EQ(entries[1].value, "a.com");
}

TEST(AllowEntry, OneBadEntryRejectsTheList) {
    EXPECT_THROW(normalize_allow_entries({"a.com", "localhost"}, false), sdk::InvalidInput);
}

TEST(AllowEntry, ToJsonHasKindValuePortsAndProtocol) {
    auto json = parse_allow_entry("*.example.com:8443", false).to_json();
    EXPECT_EQ(boost::json::serialize(json),
              R"({"kind":"wildcard","value":"*.example.com","ports":[8443],"protocol":"tcp"})");
}

// --- address classification ----------------------------------------------------------------------

TEST(AllowEntryAddress, LoopbackClassification) {
    for (const char *address : {"127.0.0.1", "127.255.255.254", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"}) {
        SCOPED_TRACE(address);
        EXPECT_TRUE(is_loopback(address));
    }
    for (const char *address : {"8.8.8.8", "128.0.0.1", "2001:db8::1", "10.0.0.1"}) {
        SCOPED_TRACE(address);
        EXPECT_FALSE(is_loopback(address));
    }
}

TEST(AllowEntryAddress, LinkLocalClassificationIncludesMetadataAndMulticast) {
    for (const char *address : {"169.254.169.254", "169.254.0.1", "fe80::1", "febf::1", "224.0.0.251", "239.1.1.1",
                                "255.255.255.255", "ff02::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"}) {
        SCOPED_TRACE(address);
        EXPECT_TRUE(is_link_local(address));
    }
    for (const char *address : {"1.1.1.1", "169.253.0.1", "fec0::1", "2001:db8::1"}) {
        SCOPED_TRACE(address);
        EXPECT_FALSE(is_link_local(address));
    }
}

TEST(AllowEntryAddress, PrivateClassification) {
    for (const char *address : {"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1",
                                "100.127.255.255", "fc00::1", "fd12:3456::1", "::ffff:10.0.0.1", "::ffff:192.168.1.1"}) {
        SCOPED_TRACE(address);
        EXPECT_TRUE(is_private(address));
    }
    for (const char *address : {"172.32.0.1", "172.15.255.255", "100.128.0.1", "11.0.0.1", "192.169.0.1",
                                "2001:db8::1", "fe00::1"}) {
        SCOPED_TRACE(address);
        EXPECT_FALSE(is_private(address));
    }
}

TEST(AllowEntryAddress, NonAddressesAreAnError) {
    for (const char *text : {"", "example.com", "1.2.3.4/8", "[::1]", "fe80::1%eth0", "1.2.3"}) {
        SCOPED_TRACE(text);
        EXPECT_THROW(is_private(text), sdk::InvalidInput);
        EXPECT_THROW(is_loopback(text), sdk::InvalidInput);
        EXPECT_THROW(is_link_local(text), sdk::InvalidInput);
    }
}

// --- DNS servers ---------------------------------------------------------------------------------

TEST(AllowEntryDns, AddressesWithOptionalPortAreAcceptedAndNormalised) {
    struct Case {
        const char *text;
        const char *normal;
    };
    for (const Case &c : std::vector<Case>{{"1.1.1.1", "1.1.1.1"},
                                           {"1.1.1.1:5353", "1.1.1.1:5353"},
                                           {"2606:4700::1111", "2606:4700::1111"},
                                           {"2606:4700:0:0::1111", "2606:4700::1111"},
                                           {"[2606:4700::1111]:53", "[2606:4700::1111]:53"},
                                           {"[2606:4700::1111]", "2606:4700::1111"},
                                           {"127.0.0.11", "127.0.0.11"},
                                           {"127.0.0.11:53", "127.0.0.11:53"},
                                           {"10.0.0.2", "10.0.0.2"},
                                           {"any", "any"},
                                           {"ANY", "any"}}) {
        SCOPED_TRACE(c.text);
        EXPECT_EQ(validate_dns_server(c.text), c.normal);
    }
}

TEST(AllowEntryDns, NonAddressesAndBadPortsAreRefused) {
    for (const char *text : {"", "dns.google", "1.1.1.1:0", "1.1.1.1:65536", "1.1.1.1:", "[1.1.1.1]:53",
                             "1.1.1.1 ", "0.0.0.0", "::", "224.0.0.1", "ff02::fb", "[2606:4700::1111]53",
                             "[2606:4700::1111", "https://1.1.1.1", "1.1.1.1;id",
                             // loopback other than the engine's 127.0.0.11:53: only the agent listens there
                             "127.0.0.1", "127.0.0.1:5353", "127.0.0.11:5353", "127.1.2.3", "::1", "[::1]:53",
                             "::ffff:127.0.0.11"}) {
        SCOPED_TRACE(text);
        try {
            validate_dns_server(text);
            ADD_FAILURE() << "accepted";
        } catch (const sdk::InvalidInput &e) {
            EXPECT_EQ(std::string(e.what()).rfind("DNS server \"", 0), 0u) << e.what();
        }
    }
}

TEST(AllowEntryDns, AnyCannotBeCombinedWithAddresses) {
    EXPECT_THROW(validate_dns_servers({"any", "1.1.1.1"}), sdk::InvalidInput);
    EXPECT_EQ(validate_dns_servers({"any"}), std::vector<std::string>{"any"});
}

TEST(AllowEntryDns, DuplicateServersAreDropped) {
    EXPECT_EQ(validate_dns_servers({"1.1.1.1", "1.1.1.1", "9.9.9.9", "[2606:4700::1111]:53", "[2606:4700:0::1111]:53"}),
              (std::vector<std::string>{"1.1.1.1", "9.9.9.9", "[2606:4700::1111]:53"}));
}

}  // namespace
}  // namespace rustyolo::net
