#include "plugins/net-nftables/drop_counters.hpp"
#include "plugins/net-nftables/feed_batch.hpp"
#include "plugins/net-nftables/nft_context.hpp"
#include "plugins/net-nftables/ruleset.hpp"
#include "plugins/net-nftables/firewall_check.hpp"
#include "tests/unit/support/scratch_netns.hpp"
#include "tests/unit/support/spoofed_source.hpp"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

namespace rustyolo::nft {
namespace {

FirewallSpec spec_with(std::vector<Resolver> upstreams, bool allow_lan = false) {
    FirewallSpec spec;
    spec.agent_uid = 1000;
    spec.upstreams = std::move(upstreams);
    spec.allow_lan = allow_lan;
    return spec;
}

const Chain &chain(const Ruleset &ruleset, const std::string &name) {
    auto it = std::find_if(ruleset.chains.begin(), ruleset.chains.end(), [&](const Chain &c) { return c.name == name; });
    if (it == ruleset.chains.end())
        throw std::runtime_error("no chain " + name);
    return *it;
}

const Set &set(const Ruleset &ruleset, const std::string &name) {
    auto it = std::find_if(ruleset.sets.begin(), ruleset.sets.end(), [&](const Set &s) { return s.name == name; });
    if (it == ruleset.sets.end())
        throw std::runtime_error("no set " + name);
    return *it;
}

std::vector<std::string> comments(const Chain &c) {
    std::vector<std::string> out;
    for (const Rule &rule : c.rules)
        out.push_back(rule.comment);
    return out;
}

std::string rule_text(const Chain &c, const std::string &comment) {
    for (const Rule &rule : c.rules)
        if (rule.comment == comment)
            return rule.text;
    return "";
}

TEST(NftRuleset, OutputChainOrderIsTheDocumentedOne) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    EXPECT_EQ(comments(chain(ruleset, "output")),
              (std::vector<std::string>{"flow-class-set-agent", "flow-class-set-probe", "flow-class-set-dns-filter",
                                        "flow-class-set-root", "flow-class-set-other", "flow-class-agent",
                                        "flow-class-probe", "flow-class-dns-filter", "flow-class-root",
                                        "flow-class-other", "flow-class-agent-reply", "flow-class-no-socket",
                                        "established", "agent-loopback-source-4", "agent-loopback-6", "stub-udp",
                                        "stub-tcp", "upstream-udp 1.1.1.1:53",
                                        "upstream-tcp 1.1.1.1:53", "upstream-closed-udp 1.1.1.1:53",
                                        "upstream-closed-tcp 1.1.1.1:53", "dns-filter-nothing-else",
                                        "ipv6-neighbour-discovery", "ipv6-kernel-link-control",
                                        "agent-local-services", "guard-never4", "guard-never6", "dns-answers-4", "dns-answers-6", "cidr-4", "cidr-6",
                                        "live-cidr-4", "live-cidr-6", "default-drop"}));
    EXPECT_EQ(comments(chain(ruleset, "input")),
              (std::vector<std::string>{"flow-class-set-inbound", "established", "loopback-filtered-on-output",
                                        "ipv6-neighbour-discovery", "default-drop"}));
    EXPECT_TRUE(chain(ruleset, "forward").rules.empty());
}

TEST(NftRuleset, EveryBaseChainDropsByPolicyAndEveryDropHasAnAuditHook) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    std::string text = render_transaction(ruleset);
    for (const char *hook : {"output", "input", "forward"})
        EXPECT_NE(text.find(std::string("type filter hook ") + hook + " priority filter; policy drop;"), std::string::npos)
            << hook;
    EXPECT_EQ(rule_text(chain(ruleset, "output"), "default-drop"), "goto blocked_output");
    EXPECT_EQ(rule_text(chain(ruleset, "input"), "default-drop"), "goto blocked_input");
    EXPECT_EQ(rule_text(chain(ruleset, "output"), "guard-never4"), "ip daddr @never4 goto blocked_guard");
    for (const char *name : blocked_chains) {
        // The agent's own attempts are refused (it learns at once); packets from the network and
        // flow-class violations are only dropped (an answer to the former would leave the host).
        const bool refused = std::string(name) == "blocked_output" || std::string(name) == "blocked_guard";
        EXPECT_EQ(refuses(name), refused) << name;
        EXPECT_EQ(chain(ruleset, name).rules.size(), 1u);
        EXPECT_EQ(chain(ruleset, name).rules[0].comment, refused ? "log-refuse" : "log-drop");
        EXPECT_EQ(chain(ruleset, name).rules[0].text, std::string("counter log prefix \"") + name +
                                                          "\" group 1700 snaplen 128 " +
                                                          (refused ? "goto refuse" : "drop"));
        EXPECT_NE(chain(ruleset, name).comment.find("NFLOG group 1700"), std::string::npos);
    }
}

TEST(NftRuleset, ARefusalIsATcpResetOrAdministrativelyProhibitedAtABoundedRate) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    const Chain &refuse = chain(ruleset, "refuse");
    EXPECT_TRUE(refuse.hook.empty());
    ASSERT_EQ(refuse.rules.size(), 4u);
    EXPECT_EQ(rule_text(refuse, "not-local-source"), "fib saddr type != local drop");
    EXPECT_EQ(rule_text(refuse, "over-limit"), "limit rate over 1000/second burst 1000 packets drop");
    EXPECT_EQ(rule_text(refuse, "tcp-reset"), "meta l4proto tcp reject with tcp reset");
    EXPECT_EQ(rule_text(refuse, "admin-prohibited"), "reject with icmpx admin-prohibited");
    // First: no refusal to a source that is not this host's; then the limit: above it, nothing is sent.
    EXPECT_EQ(refuse.rules[0].comment, "not-local-source");
    EXPECT_EQ(refuse.rules[1].comment, "over-limit");
    // Declared before the chains that jump to it, and nothing but the two blocked chains does.
    EXPECT_EQ(ruleset.chains.front().name, "refuse");
    std::string text = render_transaction(ruleset);
    std::size_t uses = 0;
    for (std::size_t at = text.find("goto refuse"); at != std::string::npos; at = text.find("goto refuse", at + 1))
        ++uses;
    EXPECT_EQ(uses, 2u);
}

TEST(NftRuleset, TheLogPrefixIsTheRuleNameOfTheAuditRecord) {
    // The reader maps the prefix to the record's "rule" and its direction (in for blocked_input).
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    std::string text = render_transaction(ruleset);
    for (const char *name : {"blocked_output", "blocked_guard", "blocked_input", "blocked_flow_class"})
        EXPECT_NE(text.find(std::string("log prefix \"") + name + "\" group 1700"), std::string::npos) << name;
}

TEST(NftRuleset, EveryNewFlowIsMarkedWithItsSocketsClassOnlyWhenItsEntryIsCreated) {
    FirewallSpec spec = spec_with({{false, "1.1.1.1", 53}});
    spec.probe_gid = 65532;
    const Ruleset ruleset = build_ruleset(spec);
    const Chain &output = chain(ruleset, "output");
    const std::string created = "ct state new ct status ! confirmed ";
    EXPECT_EQ(rule_text(output, "flow-class-set-agent"),
              created + "meta skuid 1000 meta skgid != 65532 ct mark set 0x00000001");
    EXPECT_EQ(rule_text(output, "flow-class-set-probe"), created + "meta skuid 1000 meta skgid 65532 ct mark set 0x00000004");
    EXPECT_EQ(rule_text(output, "flow-class-set-dns-filter"), created + "meta skuid 65533 ct mark set 0x00000002");
    EXPECT_EQ(rule_text(output, "flow-class-set-root"), created + "meta skuid 0 ct mark set 0x00000003");
    EXPECT_EQ(rule_text(output, "flow-class-set-other"),
              created + "meta skuid != { 0, 65533, 1000 } ct mark set 0x00000005");
    EXPECT_EQ(rule_text(chain(ruleset, "input"), "flow-class-set-inbound"),
              created + "ct mark set 0x00000006");
    // Only these rules write the mark, and none copies it from a packet or socket mark.
    for (const Chain &c : ruleset.chains)
        for (const Rule &rule : c.rules) {
            if (rule.text.find("ct mark set") != std::string::npos) {
                EXPECT_EQ(rule.text.rfind(created, 0), 0u) << rule.comment;
            }
            EXPECT_EQ(rule.text.find("meta mark"), std::string::npos) << rule.comment;
        }
}

TEST(NftRuleset, APacketFromASocketOfAnotherClassThanItsFlowsIsBlockedBeforeEstablished) {
    FirewallSpec spec = spec_with({{false, "1.1.1.1", 53}});
    spec.probe_gid = 65531;
    const Ruleset ruleset = build_ruleset(spec);
    const Chain &output = chain(ruleset, "output");
    const std::string drop = " goto blocked_flow_class";
    EXPECT_EQ(rule_text(output, "flow-class-agent"),
              "ct direction original meta skuid 1000 meta skgid != 65531 ct mark != 0x00000001" + drop);
    EXPECT_EQ(rule_text(output, "flow-class-probe"),
              "ct direction original meta skuid 1000 meta skgid 65531 ct mark != 0x00000004" + drop);
    EXPECT_EQ(rule_text(output, "flow-class-dns-filter"), "ct direction original meta skuid 65533 ct mark != 0x00000002" + drop);
    EXPECT_EQ(rule_text(output, "flow-class-root"), "ct direction original meta skuid 0 ct mark != 0x00000003" + drop);
    EXPECT_EQ(rule_text(output, "flow-class-other"),
              "ct direction original meta skuid != { 0, 65533, 1000 } ct mark != 0x00000005" + drop);
    EXPECT_EQ(rule_text(output, "flow-class-agent-reply"),
              "ct direction reply meta skuid 1000 ct mark != { 0x00000001, 0x00000006 }" + drop);
    // Every mark is set and checked before anything is accepted.
    std::vector<std::string> order = comments(output);
    auto established = std::find(order.begin(), order.end(), "established") - order.begin();
    for (std::size_t i = 0; i < output.rules.size(); ++i) {
        bool flow_class = output.rules[i].comment.rfind("flow-class-", 0) == 0;
        EXPECT_EQ(flow_class, static_cast<std::ptrdiff_t>(i) < established) << output.rules[i].comment;
        if (flow_class) {
            EXPECT_EQ(output.rules[i].text.find("accept"), std::string::npos) << output.rules[i].comment;
        }
    }
    EXPECT_EQ(established, 12);
}

TEST(NftRuleset, OriginalDirectionUdpWithoutAnOwningSocketIsBlockedBeforeEstablished) {
    const Ruleset ruleset = build_ruleset(spec_with({{false, "127.0.0.11", 53}}));
    const Chain &output = chain(ruleset, "output");
    EXPECT_EQ(rule_text(output, "flow-class-no-socket"),
              "ct direction original meta l4proto { udp, udplite } jump flow_class_no_socket");
    std::vector<std::string> order = comments(output);
    EXPECT_EQ(std::find(order.begin(), order.end(), "flow-class-no-socket") + 1,
              std::find(order.begin(), order.end(), "established"));
    // `meta skuid` does not match a packet without a socket (or from a kernel socket, which has no
    // file): every owned packet returns, the rest is blocked and audited.
    const Chain &no_socket = chain(ruleset, "flow_class_no_socket");
    EXPECT_TRUE(no_socket.hook.empty());
    EXPECT_EQ(comments(no_socket), (std::vector<std::string>{"socket-owner", "no-socket"}));
    EXPECT_EQ(rule_text(no_socket, "socket-owner"), "meta skuid >= 0 return");
    EXPECT_EQ(rule_text(no_socket, "no-socket"), "goto blocked_flow_class");
    // TCP (the kernel's RSTs and TIME_WAIT ACKs) and ICMP (the kernel's errors) never go there.
    for (const Chain &c : ruleset.chains)
        for (const Rule &rule : c.rules)
            if (rule.text.find("flow_class_no_socket") != std::string::npos) {
                EXPECT_EQ(rule.comment, "flow-class-no-socket");
            }
}

TEST(NftRuleset, NoBlanketLoopbackAccept) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    for (const Rule &rule : chain(ruleset, "output").rules) {
        EXPECT_NE(rule.text, "oif \"lo\" accept") << rule.comment;
        // The only loopback accept is the agent's to 127.0.0.1; the other lo rules block.
        if (rule.text.find("\"lo\"") != std::string::npos && rule.text.find(" accept") != std::string::npos) {
            EXPECT_NE(rule.text.find("meta skuid 1000 ip daddr 127.0.0.1"), std::string::npos) << rule.comment;
        }
    }
    // The agent sends on lo from 127.0.0.1 only (never from 127.0.0.11, never over IPv6).
    EXPECT_EQ(rule_text(chain(ruleset, "output"), "agent-loopback-source-4"),
              "oif \"lo\" meta skuid 1000 ip saddr != 127.0.0.1 goto blocked_output");
    EXPECT_EQ(rule_text(chain(ruleset, "output"), "agent-loopback-6"),
              "oif \"lo\" meta skuid 1000 meta nfproto ipv6 goto blocked_output");
    EXPECT_EQ(rule_text(chain(ruleset, "output"), "stub-udp"), "ip daddr 127.0.0.1 udp dport 53 accept");
}

TEST(NftRuleset, OnlyTheFilterUidReachesUpstreamsByTheOriginalTuple) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "127.0.0.11", 53}, {true, "2001:db8::53", 5353}}));
    const Chain &output = chain(ruleset, "output");
    EXPECT_EQ(rule_text(output, "upstream-udp 127.0.0.11:53"),
              "meta skuid 65533 meta l4proto udp ct original ip daddr 127.0.0.11 ct original proto-dst 53 accept");
    EXPECT_EQ(rule_text(output, "upstream-tcp [2001:db8::53]:5353"),
              "meta skuid 65533 meta l4proto tcp ct original ip6 daddr 2001:db8::53 ct original proto-dst 5353 accept");
    EXPECT_EQ(rule_text(output, "upstream-closed-udp 127.0.0.11:53"),
              "meta l4proto udp ct original ip daddr 127.0.0.11 ct original proto-dst 53 reject");
    EXPECT_EQ(rule_text(output, "dns-filter-nothing-else"), "meta skuid 65533 goto blocked_output");
}

TEST(NftRuleset, EngineResolverForwardingOnlyWith127_0_0_11) {
    Ruleset with = build_ruleset(spec_with({{false, "127.0.0.11", 53}}));
    EXPECT_EQ(rule_text(chain(with, "output"), "engine-resolver-forwarding-udp"), "meta skuid 0 udp dport 53 accept");
    Ruleset without = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    EXPECT_EQ(rule_text(chain(without, "output"), "engine-resolver-forwarding-udp"), "");
}

TEST(NftRuleset, GuardSetsHoldNeverAllowedRangesAndPrivateOnlyWithoutAllowLan) {
    Ruleset closed = build_ruleset(spec_with({{false, "1.1.1.1", 53}}, false));
    const auto &v4 = set(closed, "never4").elements;
    for (const char *range : {"127.0.0.0/8", "0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
                              "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"})
        EXPECT_NE(std::find(v4.begin(), v4.end(), range), v4.end()) << range;
    const auto &v6 = set(closed, "never6").elements;
    for (const char *range : {"::1/128", "fe80::/10", "ff00::/8", "fc00::/7"})
        EXPECT_NE(std::find(v6.begin(), v6.end(), range), v6.end()) << range;

    Ruleset lan = build_ruleset(spec_with({{false, "1.1.1.1", 53}}, true));
    const auto &lan4 = set(lan, "never4").elements;
    EXPECT_EQ(std::find(lan4.begin(), lan4.end(), "10.0.0.0/8"), lan4.end());
    EXPECT_NE(std::find(lan4.begin(), lan4.end(), "169.254.0.0/16"), lan4.end());
}

TEST(NftRuleset, DynamicSetsHaveTimeoutsAndABound) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    EXPECT_EQ(set(ruleset, "allow4").type, "ipv4_addr . inet_service");
    EXPECT_EQ(set(ruleset, "allow6").type, "ipv6_addr . inet_service");
    EXPECT_EQ(set(ruleset, "allow4").flags, std::vector<std::string>{"timeout"});
    EXPECT_EQ(set(ruleset, "allow4").size, 65536u);
    std::string text = render_transaction(ruleset);
    EXPECT_NE(text.find("\tset allow4 {\n\t\ttype ipv4_addr . inet_service\n\t\tflags timeout\n\t\tsize 65536\n\t}\n"),
              std::string::npos);
}

TEST(NftRuleset, CidrEntriesShareOneIntervalSetPerPortListWithoutOverlaps) {
    FirewallSpec spec = spec_with({{false, "1.1.1.1", 53}}, true);
    spec.static_ranges = {{false, "10.0.0.0/8", {443}},     {false, "10.1.2.3/32", {443, 22}},
                          {false, "10.0.0.0/8", {443}},     {true, "2001:db8::/32", {443}},
                          {false, "203.0.113.0/24", {80}},  {false, "10.2.0.0/16", {443}}};
    Ruleset ruleset = build_ruleset(spec);
    EXPECT_EQ(set(ruleset, "cidr4_0").elements, std::vector<std::string>{"10.1.2.3/32"});
    EXPECT_EQ(set(ruleset, "cidr4_1").elements, std::vector<std::string>{"203.0.113.0/24"});
    EXPECT_EQ(set(ruleset, "cidr4_2").elements, std::vector<std::string>{"10.0.0.0/8"});  // 10.2/16 is inside
    EXPECT_EQ(set(ruleset, "cidr4_2").type, "ipv4_addr");
    EXPECT_EQ(set(ruleset, "cidr4_2").flags, std::vector<std::string>{"interval"});
    EXPECT_EQ(set(ruleset, "cidr6_0").elements, std::vector<std::string>{"2001:db8::/32"});
    EXPECT_EQ(set(ruleset, "cidr6_0").type, "ipv6_addr");
    EXPECT_TRUE(set(ruleset, "static4").elements.empty());
    EXPECT_TRUE(set(ruleset, "static6").elements.empty());
    const Chain &output = chain(ruleset, "output");
    EXPECT_EQ(rule_text(output, "cidr-4 cidr4_0"), "ip daddr @cidr4_0 tcp dport { 22, 443 } accept");
    EXPECT_EQ(rule_text(output, "cidr-4 cidr4_1"), "ip daddr @cidr4_1 tcp dport 80 accept");
    EXPECT_EQ(rule_text(output, "cidr-6 cidr6_0"), "ip6 daddr @cidr6_0 tcp dport 443 accept");
    // Between the DNS answers and the concatenated sets, before the final drop.
    std::vector<std::string> order = comments(output);
    auto at = [&](const std::string &c) { return std::find(order.begin(), order.end(), c) - order.begin(); };
    EXPECT_LT(at("dns-answers-6"), at("cidr-4 cidr4_0"));
    EXPECT_LT(at("cidr-6 cidr6_0"), at("cidr-4"));
    EXPECT_LT(at("cidr-6"), at("default-drop"));
}

TEST(NftRuleset, ManyPrefixesOfOneLengthGoToAPlainSetMatchedUnderTheirMask) {
    FirewallSpec spec = spec_with({{false, "1.1.1.1", 53}}, true);
    for (int i = 0; i < 40; ++i)
        spec.static_ranges.push_back({false, "10.7." + std::to_string(i) + ".0/24", {80, 443}});
    spec.static_ranges.push_back({false, "10.8.0.0/16", {443, 80}});  // alone at its length
    for (int i = 0; i < 20; ++i)
        spec.static_ranges.push_back({true, "2001:db8:" + std::to_string(i) + "::/48", {443, 80}});
    Ruleset ruleset = build_ruleset(spec);
    EXPECT_EQ(set(ruleset, "cidr4_0_24").elements.size(), 40u);
    EXPECT_EQ(set(ruleset, "cidr4_0_24").elements.front(), "10.7.0.0");
    EXPECT_TRUE(set(ruleset, "cidr4_0_24").flags.empty());
    EXPECT_EQ(set(ruleset, "cidr4_0").elements, std::vector<std::string>{"10.8.0.0/16"});
    EXPECT_EQ(set(ruleset, "cidr6_0_48").elements.size(), 20u);
    const Chain &output = chain(ruleset, "output");
    EXPECT_EQ(rule_text(output, "cidr-4 cidr4_0_24"), "ip daddr & 255.255.255.0 @cidr4_0_24 tcp dport { 80, 443 } accept");
    EXPECT_EQ(rule_text(output, "cidr-6 cidr6_0_48"),
              "ip6 daddr & ffff:ffff:ffff:: @cidr6_0_48 tcp dport { 80, 443 } accept");
}

TEST(NftRuleset, PortListsBeyondTheSetLimitGoToTheConcatenatedSet) {
    FirewallSpec spec = spec_with({{false, "1.1.1.1", 53}}, true);
    // max_cidr_sets + 2 port lists; the first has two prefixes, so it is among the largest.
    spec.static_ranges.push_back({false, "10.9.0.0/16", {1}});
    for (std::uint16_t port = 1; port <= max_cidr_sets + 2; ++port)
        spec.static_ranges.push_back({false, "10.0." + std::to_string(port) + ".0/24", {port}});
    Ruleset ruleset = build_ruleset(spec);
    std::size_t own = 0;
    for (const Set &s : ruleset.sets)
        own += s.name.rfind("cidr4_", 0) == 0;
    EXPECT_EQ(own, max_cidr_sets);
    EXPECT_EQ(set(ruleset, "cidr4_0").elements, (std::vector<std::string>{"10.0.1.0/24", "10.9.0.0/16"}));
    // Ties by port list: ports 17 and 18 are left over.
    EXPECT_EQ(set(ruleset, "static4").elements, (std::vector<std::string>{"10.0.17.0/24 . 17", "10.0.18.0/24 . 18"}));
}

TEST(NftRuleset, TransactionCreatesTheTableAndNeverMergesIntoOne) {
    std::string text = render_transaction(build_ruleset(spec_with({{false, "1.1.1.1", 53}})));
    EXPECT_EQ(text.rfind("create table inet rustyolo\ntable inet rustyolo {\n", 0), 0u);
}

TEST(NftRuleset, RefusesAnAgentUidThatIsRootOrTheFilters) {
    FirewallSpec spec = spec_with({{false, "1.1.1.1", 53}});
    spec.agent_uid = 0;
    EXPECT_THROW(build_ruleset(spec), std::invalid_argument);
    spec.agent_uid = dns_filter_uid;
    EXPECT_THROW(build_ruleset(spec), std::invalid_argument);
}

TEST(NftRuleset, KernelAcceptsTheTransactionAndTheSelfTestRecognisesIt) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a scratch network namespace";
    FirewallSpec spec = spec_with({{false, "127.0.0.11", 53}, {true, "2001:db8::53", 53}}, false);
    spec.static_ranges = {{false, "203.0.113.0/24", {443, 8443}}, {true, "2001:db8::/32", {443}}};
    for (int i = 0; i < 20; ++i) {  // enough of one length for the plain sets
        spec.static_ranges.push_back({false, "198.18." + std::to_string(i) + ".0/24", {443}});
        spec.static_ranges.push_back({true, "2001:db9:" + std::to_string(i) + "::/48", {443}});
    }
    Ruleset ruleset = build_ruleset(spec);
    std::string problem = test_support::in_scratch_netns([&]() -> std::string {
        NftContext nft;
        nft.run(render_transaction(ruleset), "install");
        // A second install finds the table and changes nothing (no merge, no replacement).
        try {
            nft.run(render_transaction(ruleset), "install again");
            return std::string("a second install into an existing table succeeded");
        } catch (const NftError &e) {
            if (std::string(e.what()).find("File exists") == std::string::npos)
                return std::string("a second install failed for another reason: ") + e.what();
        }
        std::string listing = NftContext(true).run("list table inet rustyolo", "list");
        for (const Check &check : compare_ruleset(ruleset, boost::json::parse(listing)))
            if (!check.ok)
                return check.name + ": " + check.detail;
        // Feeding and refreshing elements works on this kernel.
        AdmissionPolicy policy;
        policy.ports = {443};
        std::string script = element_script({{false, "1.2.3.4", 300, {443}}, {true, "2001:db8::1", 5, {443}}}, policy);
        nft.run(script, "feed");
        nft.run(script, "feed again");
        std::string sets = nft.run("list set inet rustyolo allow4", "list allow4");
        if (sets.find("1.2.3.4 . 443 timeout 5m30s") == std::string::npos)
            return "allow4 lacks the element: " + sets;
        std::string six = nft.run("list set inet rustyolo allow6", "list allow6");
        if (six.find("2001:db8::1 . 443 timeout 35s") == std::string::npos)
            return "allow6 lacks the clamped element: " + six;
        return "";
    });
    EXPECT_EQ(problem, "");
}

using test_support::as_user;

sockaddr_in loopback(const char *address, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &a.sin_addr);
    return a;
}

// A datagram from `from` (port 0: any) to `to`: 0 when sent, else errno.
int send_from(const sockaddr_in &from, const sockaddr_in &to, const char *payload) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int result = 0;
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr *>(&from), sizeof from) != 0 ||
        ::sendto(fd, payload, std::strlen(payload), 0, reinterpret_cast<const sockaddr *>(&to), sizeof to) < 0)
        result = errno;
    if (fd >= 0)
        ::close(fd);
    return result;
}

// What arrived at `server` within 200 ms ("" if nothing), replying "r" to its sender.
std::string receive_and_answer(int server) {
    pollfd p{server, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1)
        return "";
    char buffer[64];
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    ssize_t n = ::recvfrom(server, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr *>(&peer), &length);
    if (n < 0)
        return "";
    ::sendto(server, "r", 1, 0, reinterpret_cast<sockaddr *>(&peer), length);
    return std::string(buffer, static_cast<std::size_t>(n));
}

TEST(NftRuleset, OnThisKernelAFlowOpenedByTheFilterCannotBeContinuedByTheAgent) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a scratch network namespace";
    // The attack of test_flow_class.py in a scratch namespace: the "upstream" is a root socket on
    // 127.0.0.11:53 (no Docker NAT here). The filter's uid asks it, gets the reply and closes its
    // socket; the agent's uid sends from the same address and port.
    Ruleset ruleset = build_ruleset(spec_with({{false, "127.0.0.11", 53}}));
    std::string problem = test_support::in_scratch_netns([&]() -> std::string {
        if (!test_support::loopback_up())
            return "lo did not come up";
        NftContext nft;
        nft.run(render_transaction(ruleset), "install");
        int server = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in upstream = loopback("127.0.0.11", 53);
        if (::bind(server, reinterpret_cast<sockaddr *>(&upstream), sizeof upstream) != 0)
            return std::string("bind 127.0.0.11:53: ") + std::strerror(errno);
        const sockaddr_in source = loopback("127.0.0.1", 40053);
        int filter = as_user(net::dns_filter_uid, net::dns_filter_gid, [&] { return send_from(source, upstream, "filter"); });
        if (filter != 0 || receive_and_answer(server) != "filter")
            return "the filter's query did not reach the upstream: " + std::to_string(filter);
        // The reply has made the flow established; the filter's socket is gone.
        int agent = as_user(1000, 1000, [&] { return send_from(source, upstream, "agent"); });
        std::string arrived = receive_and_answer(server);
        if (agent != EPERM || !arrived.empty())
            return "the agent continued the filter's flow: send gave " + std::to_string(agent) + ", arrived \"" +
                   arrived + "\"";
        // Twin: the filter's own class continues it.
        int again = as_user(net::dns_filter_uid, net::dns_filter_gid, [&] { return send_from(source, upstream, "again"); });
        if (again != 0 || receive_and_answer(server) != "again")
            return "the filter could not continue its own flow: " + std::to_string(again);
        // The agent's own local service on lo (its listener answers its flow) and the kernel's RST
        // for a closed port (no socket) still work.
        int local = as_user(1000, 1000, [] {
            int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in service = loopback("127.0.0.1", 8765), closed = loopback("127.0.0.1", 9);
            timeval two_seconds{2, 0};  // a dropped SYN-ACK or RST ends as a timeout, not a hang
            ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof two_seconds);
            ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
            if (::bind(listener, reinterpret_cast<sockaddr *>(&service), sizeof service) != 0 || ::listen(listener, 1) != 0 ||
                ::connect(client, reinterpret_cast<sockaddr *>(&service), sizeof service) != 0)
                return errno;
            int server_side = ::accept(listener, nullptr, nullptr);
            char byte = 0;
            if (server_side < 0 || ::send(server_side, "x", 1, 0) != 1 || ::recv(client, &byte, 1, 0) != 1 || byte != 'x')
                return EPROTO;
            int refused = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            ::setsockopt(refused, SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof two_seconds);
            if (::connect(refused, reinterpret_cast<sockaddr *>(&closed), sizeof closed) == 0 || errno != ECONNREFUSED)
                return ENOTCONN;
            return 0;
        });
        if (local != 0)
            return "the agent's local service or the kernel's RST failed: " + std::to_string(local);
        return "";
    });
    EXPECT_EQ(problem, "");
}

// A TCP connect from the calling process: 0 if connected within 300 ms, its errno, or ETIMEDOUT.
int connect_within_300ms(const sockaddr *to, socklen_t length) {
    int fd = ::socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int result = 0;
    if (::connect(fd, to, length) != 0) {
        result = errno;
        pollfd p{fd, POLLOUT, 0};
        if (result == EINPROGRESS) {
            result = ETIMEDOUT;
            if (::poll(&p, 1, 300) == 1) {
                socklen_t size = sizeof result;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &size);
            }
        }
    }
    ::close(fd);
    return result;
}

// A datagram on a connected UDP socket, then a receive: send errno * 1000 + receive errno
// (ETIMEDOUT when nothing came within 300 ms).
int udp_send_then_receive(const sockaddr *to, socklen_t length) {
    int fd = ::socket(to->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, to, length) != 0)
        return errno;
    int sent = ::send(fd, "x", 1, 0) < 0 ? errno : 0;
    int received = ETIMEDOUT;
    pollfd p{fd, POLLIN, 0};
    char byte;
    if (::poll(&p, 1, 300) == 1)
        received = ::recv(fd, &byte, 1, MSG_DONTWAIT) < 0 ? errno : 0;
    ::close(fd);
    return sent * 1000 + received;
}

TEST(NftRuleset, OnThisKernelABlockedConnectionIsRefusedAtOnceAndCountedOnce) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a scratch network namespace";
    // 127.0.0.2 goes to the guard, [::1] to blocked_output (agent-loopback-6): both refuse.
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    // The twin: the same firewall with the refusal replaced by a drop (as before): the connect
    // gets no answer.
    Ruleset dropping = ruleset;
    for (Chain &c : dropping.chains)
        if (c.name == "blocked_output" || c.name == "blocked_guard")
            c.rules[0].text = "counter log prefix \"" + c.name + "\" group 1700 snaplen 128 drop";
    const sockaddr_in v4 = loopback("127.0.0.2", 80);
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(80);
    v6.sin6_addr = in6addr_loopback;
    auto probe = [&](const Ruleset &installed) -> std::string {
        return test_support::in_scratch_netns([&]() -> std::string {
            if (!test_support::loopback_up())
                return "lo did not come up";
            NftContext nft;
            nft.run(render_transaction(installed), "install");
            const auto *to4 = reinterpret_cast<const sockaddr *>(&v4);
            const auto *to6 = reinterpret_cast<const sockaddr *>(&v6);
            std::string seen = "tcp4=" + std::to_string(as_user(1000, 1000, [&] { return connect_within_300ms(to4, sizeof v4); })) +
                               " udp4=" + std::to_string(as_user(1000, 1000, [&] { return udp_send_then_receive(to4, sizeof v4); })) +
                               " tcp6=" + std::to_string(as_user(1000, 1000, [&] { return connect_within_300ms(to6, sizeof v6); })) +
                               " udp6=" + std::to_string(as_user(1000, 1000, [&] { return udp_send_then_receive(to6, sizeof v6); }));
            ::usleep(100 * 1000);
            NftContext listing(true);  // the counters are read as JSON
            seen += " counted=" + std::to_string(read_drop_counters(listing));
            return seen;  // in_scratch_netns hands the body's text back
        });
    };
    const std::string refused = probe(ruleset);
    // TCP: a reset (ECONNREFUSED). UDP: the send fails (EPERM, as with a drop), then the ICMP
    // error reaches the connected socket (IPv4 code 13: EHOSTUNREACH; IPv6 code 1: EACCES).
    // Exactly one counted packet each: the reset and the ICMP error are not counted.
    EXPECT_EQ(refused, "tcp4=" + std::to_string(ECONNREFUSED) + " udp4=" + std::to_string(EPERM * 1000 + EHOSTUNREACH) +
                           " tcp6=" + std::to_string(ECONNREFUSED) + " udp6=" + std::to_string(EPERM * 1000 + EACCES) +
                           " counted=4");
    const std::string dropped = probe(dropping);
    EXPECT_EQ(dropped, "tcp4=" + std::to_string(ETIMEDOUT) + " udp4=" + std::to_string(EPERM * 1000 + ETIMEDOUT) +
                           " tcp6=" + std::to_string(ETIMEDOUT) + " udp6=" + std::to_string(EPERM * 1000 + ETIMEDOUT) +
                           " counted=4");
}

using test_support::run_program;

// A flow opened by an owned socket (the filter's uid, to an "upstream" in a second namespace
// behind a veth pair) and answered; then a kernel-internal socket sends on the same five-tuple: a
// VXLAN device whose source port range is that one port encapsulates the kernel's own IPv6
// neighbour solicitations (allowed by `ipv6-neighbour-discovery`) in UDP from its socket, which has
// no file and so no owner. Returns how many such datagrams reached the upstream, or -1 with
// `problem` set.
int kernel_socket_datagrams_on_an_owned_flow(const Ruleset &ruleset, std::string &problem) {
    // The body runs in a forked child: it reports "count N" or what went wrong.
    const std::string report = test_support::in_scratch_netns([&]() -> std::string {
        if (!test_support::loopback_up())
            return "lo did not come up";
        int go[2], back[2];
        if (::pipe(go) != 0 || ::pipe(back) != 0)
            return "pipe failed";
        const pid_t upstream = ::fork();
        if (upstream == 0) {  // the upstream's namespace
            char byte = 0;
            std::int32_t count = -1;
            if (::unshare(CLONE_NEWNET) == 0 && ::write(back[1], "n", 1) == 1 && ::read(go[0], &byte, 1) == 1 &&
                test_support::loopback_up() && run_program({"ip", "addr", "add", "10.98.0.2/24", "dev", "vb"}) == 0 &&
                run_program({"ip", "link", "set", "vb", "up"}) == 0) {
                int server = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                sockaddr_in self = loopback("10.98.0.2", 4789);
                if (::bind(server, reinterpret_cast<sockaddr *>(&self), sizeof self) == 0 &&
                    ::write(back[1], "r", 1) == 1) {
                    count = 0;
                    bool answered = false;
                    timespec start{}, now{};
                    ::clock_gettime(CLOCK_MONOTONIC, &start);
                    for (;;) {
                        ::clock_gettime(CLOCK_MONOTONIC, &now);
                        const long left = 8000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
                        pollfd p{server, POLLIN, 0};
                        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1)
                            break;
                        char buf[2048];
                        sockaddr_in peer{};
                        socklen_t len = sizeof peer;
                        const ssize_t n = ::recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&peer), &len);
                        if (n <= 0 || ntohs(peer.sin_port) != 40054)
                            continue;
                        if (!answered && std::string(buf, static_cast<std::size_t>(n)) == "filter") {
                            answered = ::sendto(server, "answer", 6, 0, reinterpret_cast<sockaddr *>(&peer), len) == 6 &&
                                       ::write(back[1], "a", 1) == 1;
                            continue;
                        }
                        ++count;
                    }
                }
            }
            ssize_t ignored = ::write(back[1], &count, sizeof count);
            (void)ignored;
            ::_exit(0);
        }
        ::close(go[0]);
        ::close(back[1]);
        char byte = 0;
        auto finish = [&](std::string why) {
            ::close(go[1]);
            ::close(back[0]);
            ::waitpid(upstream, nullptr, 0);
            return why;
        };
        if (upstream < 0 || ::read(back[0], &byte, 1) != 1 || byte != 'n')
            return finish("the upstream's namespace was not created");
        const std::string peer_ns = std::to_string(upstream);
        if (run_program({"ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", peer_ns}) != 0 ||
            run_program({"ip", "addr", "add", "10.98.0.1/24", "dev", "va"}) != 0 ||
            run_program({"ip", "link", "set", "va", "up"}) != 0 || ::write(go[1], "g", 1) != 1 ||
            ::read(back[0], &byte, 1) != 1 || byte != 'r')
            return finish("the veth pair did not come up (ip from iproute2 needed)");
        NftContext nft;
        nft.run(render_transaction(ruleset), "install");
        const sockaddr_in source = loopback("10.98.0.1", 40054), server = loopback("10.98.0.2", 4789);
        int filter = as_user(net::dns_filter_uid, net::dns_filter_gid, [&] { return send_from(source, server, "filter"); });
        pollfd p{back[0], POLLIN, 0};
        if (filter != 0 || ::poll(&p, 1, 3000) != 1 || ::read(back[0], &byte, 1) != 1 || byte != 'a')
            return finish("the filter's flow was not answered: " + std::to_string(filter));
        ::usleep(200 * 1000);  // the answer makes the flow established
        if (run_program({"ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", "10.98.0.2", "local",
                         "10.98.0.1", "dstport", "4789", "srcport", "40054", "40055", "dev", "va"}) != 0 ||
            run_program({"ip", "link", "set", "vx0", "up"}) != 0)
            return finish("no vxlan device (module vxlan)");
        std::int32_t count = -1;
        if (::read(back[0], &count, sizeof count) != sizeof count || count < 0)
            return finish("the upstream did not report");
        return finish("count " + std::to_string(count));
    });
    if (report.rfind("count ", 0) != 0) {
        problem = report;
        return -1;
    }
    problem.clear();
    return std::stoi(report.substr(6));
}

TEST(NftRuleset, OnThisKernelAKernelSocketCannotContinueAFlowOfAnOwnedSocket) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for scratch network namespaces";
    const Ruleset ruleset = build_ruleset(spec_with({{false, "10.98.0.2", 4789}}));
    std::string problem;
    EXPECT_EQ(kernel_socket_datagrams_on_an_owned_flow(ruleset, problem), 0) << problem;
    EXPECT_EQ(problem, "");
    // Twin: the same ruleset without flow-class-no-socket lets the kernel socket's datagrams
    // through as "established" (so the setup above would see them).
    Ruleset without = ruleset;
    for (Chain &c : without.chains)
        c.rules.erase(std::remove_if(c.rules.begin(), c.rules.end(),
                                     [](const Rule &rule) { return rule.comment == "flow-class-no-socket"; }),
                      c.rules.end());
    EXPECT_GT(kernel_socket_datagrams_on_an_owned_flow(without, problem), 0) << problem;
    EXPECT_EQ(problem, "");
}

// Loads `ruleset` into the scratch namespace (test_support::refusals_to_a_spoofed_source).
int refusals_to_a_spoofed_source(const Ruleset &ruleset, std::string &problem) {
    return test_support::refusals_to_a_spoofed_source(
        [&]() -> std::string {
            NftContext nft;
            nft.run(render_transaction(ruleset), "install");
            return "";
        },
        problem);
}

TEST(NftRuleset, OnThisKernelNoRefusalGoesToASourceAddressThatIsNotThisHosts) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a scratch network namespace";
    std::string problem;
    EXPECT_EQ(refusals_to_a_spoofed_source(build_ruleset(spec_with({{false, "1.1.1.1", 53}})), problem), 0) << problem;
    // The twin: without the rule not-local-source, the refusal goes out to the spoofed address.
    Ruleset without = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    for (Chain &c : without.chains)
        if (c.name == "refuse")
            c.rules.erase(c.rules.begin());
    EXPECT_EQ(refusals_to_a_spoofed_source(without, problem), 1) << problem;
}

}  // namespace

TEST(NftLiveChanges, LiveCidrSetsAreEmptyAtStartAndRefilledInOneTransaction) {
    Ruleset ruleset = build_ruleset(spec_with({{false, "1.1.1.1", 53}}));
    EXPECT_TRUE(set(ruleset, "live4").elements.empty());
    EXPECT_TRUE(set(ruleset, "live6").elements.empty());
    EXPECT_EQ(rule_text(chain(ruleset, "output"), "live-cidr-4"), "ip daddr . tcp dport @live4 accept");
    const std::string script = live_cidr_script({StaticRange{false, "203.0.113.0/24", {443}},
                                                 StaticRange{false, "203.0.113.128/25", {443, 8443}}});
    EXPECT_EQ(script,
              "flush set inet rustyolo live4\n"
              "add element inet rustyolo live4 { 203.0.113.0/24 . 443, 203.0.113.128/25 . 8443 }\n"
              "flush set inet rustyolo live6\n");
    EXPECT_EQ(live_cidr_script({}), "flush set inet rustyolo live4\nflush set inet rustyolo live6\n");
}

TEST(NftLiveChanges, RemovalAddsEachElementBeforeDeletingIt) {
    EXPECT_EQ(removal_script({Element{false, "198.18.0.1", 443}, Element{true, "2001:db8::1", 80}}),
              "add element inet rustyolo allow4 { 198.18.0.1 . 443 timeout 1s }\n"
              "delete element inet rustyolo allow4 { 198.18.0.1 . 443 }\n"
              "add element inet rustyolo allow6 { 2001:db8::1 . 80 timeout 1s }\n"
              "delete element inet rustyolo allow6 { 2001:db8::1 . 80 }\n");
    EXPECT_EQ(removal_script({}), "");
}

}  // namespace rustyolo::nft
