// The iptables batches' audit hook: every drop goes through a blocked chain that logs to the
// packet audit's NFLOG group first; the counters of those NFLOG rules are the exact totals.
#include "plugins/net-iptables/iptables_rules.hpp"
#include "tests/unit/support/spoofed_source.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace rustyolo::ipt {
namespace {

IptablesSpec spec() {
    IptablesSpec s;
    s.base.agent_uid = 1000;
    s.base.upstreams = {net::Resolver{false, "172.29.0.53", 53}};
    s.addresses = {StaticAddress{false, "172.29.0.20", {443}, "allowed.test"}};
    return s;
}

bool contains(const std::string &text, const std::string &what) { return text.find(what) != std::string::npos; }

TEST(IptablesRules, EveryBlockedChainLogsToTheAuditGroupThenDrops) {
    for (const Batch &batch : {ipv4_batch(spec()), ipv6_batch(spec())}) {
        for (auto [chain, prefix] : {std::pair{"RUSTYOLO_BLOCKED_OUTPUT", "blocked_output"},
                                     std::pair{"RUSTYOLO_BLOCKED_GUARD", "blocked_guard"},
                                     std::pair{"RUSTYOLO_BLOCKED_INPUT", "blocked_input"},
                                     std::pair{"RUSTYOLO_BLOCKED_FLOW_CLASS", "blocked_flow_class"}}) {
            EXPECT_TRUE(contains(batch.text, std::string(":") + chain + " - [0:0]\n")) << chain;
            const bool refused = std::string(prefix) == "blocked_output" || std::string(prefix) == "blocked_guard";
            EXPECT_EQ(refuses(chain), refused) << chain;
            EXPECT_EQ(batch.comments.at(chain),
                      refused ? (std::vector<std::string>{"log", "refuse", "drop"}) : (std::vector<std::string>{"log", "drop"}))
                << chain;
            EXPECT_TRUE(contains(batch.text, std::string("-A ") + chain +
                                                 " -m comment --comment \"rustyolo:log\" -j NFLOG --nflog-prefix " +
                                                 prefix + " --nflog-group 1700 --nflog-size 128\n"))
                << batch.text;
            EXPECT_TRUE(contains(batch.text, std::string("-A ") + chain + " -m comment --comment \"rustyolo:drop\" -j DROP\n"));
        }
        // Nothing drops except through them.
        EXPECT_FALSE(contains(batch.text, "-j DROP\n-A OUTPUT"));
        EXPECT_TRUE(contains(batch.text, "\"rustyolo:default-drop\" -j RUSTYOLO_BLOCKED_OUTPUT\n"));
        EXPECT_TRUE(contains(batch.text, "\"rustyolo:default-drop\" -j RUSTYOLO_BLOCKED_INPUT\n"));
    }
    EXPECT_TRUE(contains(ipv4_batch(spec()).text, "-d 169.254.0.0/16 -j RUSTYOLO_BLOCKED_GUARD\n"));
    EXPECT_TRUE(contains(ipv6_batch(spec()).text, "-d fe80::/10 -j RUSTYOLO_BLOCKED_GUARD\n"));
}

TEST(IptablesRules, TheAgentsOwnBlockedPacketsAreRefusedAtABoundedRate) {
    for (const Batch &batch : {ipv4_batch(spec()), ipv6_batch(spec())}) {
        const bool v6 = contains(batch.text, "icmp6-adm-prohibited");
        EXPECT_TRUE(contains(batch.text, ":RUSTYOLO_REFUSE - [0:0]\n"));
        EXPECT_EQ(batch.comments.at("RUSTYOLO_REFUSE"),
                  (std::vector<std::string>{"not-local-source", "tcp-reset", "admin-prohibited"}));
        EXPECT_TRUE(contains(batch.text, "-A RUSTYOLO_REFUSE -m comment --comment \"rustyolo:not-local-source\" -m addrtype "
                                         "! --src-type LOCAL -j DROP\n"));
        EXPECT_TRUE(contains(batch.text, "-A RUSTYOLO_REFUSE -m comment --comment \"rustyolo:tcp-reset\" -p tcp -j REJECT "
                                         "--reject-with tcp-reset\n"));
        EXPECT_TRUE(contains(batch.text, std::string("-A RUSTYOLO_REFUSE -m comment --comment \"rustyolo:admin-prohibited\" "
                                                     "-j REJECT --reject-with ") +
                                             (v6 ? "icmp6-adm-prohibited" : "icmp-admin-prohibited") + "\n"));
        for (const char *chain : {"RUSTYOLO_BLOCKED_OUTPUT", "RUSTYOLO_BLOCKED_GUARD"})
            EXPECT_TRUE(contains(batch.text, std::string("-A ") + chain +
                                                 " -m comment --comment \"rustyolo:refuse\" -m limit --limit 1000/sec "
                                                 "--limit-burst 1000 -j RUSTYOLO_REFUSE\n"))
                << chain;
        EXPECT_FALSE(contains(batch.text, "-A RUSTYOLO_BLOCKED_INPUT -m comment --comment \"rustyolo:refuse\""));
    }
    EXPECT_TRUE(contains(ipv4_batch(spec()).text, "icmp-admin-prohibited"));
    EXPECT_TRUE(contains(ipv6_batch(spec()).text, "icmp6-adm-prohibited"));
}

std::string line_of(const Batch &batch, const std::string &chain, const std::string &id) {
    const std::string start = "-A " + chain + " -m comment --comment \"rustyolo:" + id + "\" ";
    std::size_t at = batch.text.find(start);
    if (at == std::string::npos)
        return "";
    at += start.size();
    return batch.text.substr(at, batch.text.find('\n', at) - at);
}

TEST(IptablesRules, FlowsAreMarkedWithTheirSocketsClassAndCheckedBeforeEstablished) {
    IptablesSpec s = spec();
    s.base.probe_gid = 65532;
    for (const Batch &batch : {ipv4_batch(s), ipv6_batch(s)}) {
        const std::string created = "-m conntrack --ctstate NEW ! --ctstatus CONFIRMED ";
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-set-agent"),
                  created + "-m owner --uid-owner 1000 ! --gid-owner 65532 -j CONNMARK --set-mark 1");
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-set-probe"),
                  created + "-m owner --uid-owner 1000 --gid-owner 65532 -j CONNMARK --set-mark 4");
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-set-dns-filter"),
                  created + "-m owner --uid-owner 65533 -j CONNMARK --set-mark 2");
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-set-root"), created + "-m owner --uid-owner 0 -j CONNMARK --set-mark 3");
        // A positive --uid-owner first: an inverted owner match alone is true for a closed socket.
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-set-other"),
                  created + "-m owner --uid-owner 1-4294967294 -m owner ! --uid-owner 65533 -m owner ! --uid-owner 1000 "
                            "-j CONNMARK --set-mark 5");
        EXPECT_EQ(line_of(batch, "INPUT", "flow-class-set-inbound"), created + "-j CONNMARK --set-mark 6");
        const std::string drop = " -j RUSTYOLO_BLOCKED_FLOW_CLASS";
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-agent"),
                  "-m conntrack --ctdir ORIGINAL -m owner --uid-owner 1000 ! --gid-owner 65532 -m connmark ! --mark 1" + drop);
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-probe"),
                  "-m conntrack --ctdir ORIGINAL -m owner --uid-owner 1000 --gid-owner 65532 -m connmark ! --mark 4" + drop);
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-dns-filter"),
                  "-m conntrack --ctdir ORIGINAL -m owner --uid-owner 65533 -m connmark ! --mark 2" + drop);
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-root"),
                  "-m conntrack --ctdir ORIGINAL -m owner --uid-owner 0 -m connmark ! --mark 3" + drop);
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-other"),
                  "-m conntrack --ctdir ORIGINAL -m owner --uid-owner 1-4294967294 -m owner ! --uid-owner 65533 -m owner "
                  "! --uid-owner 1000 -m connmark ! --mark 5" + drop);
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-agent-reply"),
                  "-m conntrack --ctdir REPLY -m owner --uid-owner 1000 -m connmark ! --mark 1 -m connmark ! --mark 6" + drop);
        // UDP of a flow's original direction without an owning socket (kernel-internal sockets have
        // no file): an inverted match over every uid is true exactly for them.
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-no-socket-udp"),
                  "-p udp -m conntrack --ctdir ORIGINAL -m owner ! --uid-owner 0-4294967294" + drop);
        EXPECT_EQ(line_of(batch, "OUTPUT", "flow-class-no-socket-udplite"),
                  "-p udplite -m conntrack --ctdir ORIGINAL -m owner ! --uid-owner 0-4294967294" + drop);
        const std::vector<std::string> &output = batch.comments.at("OUTPUT");
        EXPECT_EQ(std::vector<std::string>(output.begin(), output.begin() + 14),
                  (std::vector<std::string>{"flow-class-set-agent", "flow-class-set-probe", "flow-class-set-dns-filter",
                                            "flow-class-set-root", "flow-class-set-other", "flow-class-agent",
                                            "flow-class-probe", "flow-class-dns-filter", "flow-class-root",
                                            "flow-class-other", "flow-class-agent-reply", "flow-class-no-socket-udp",
                                            "flow-class-no-socket-udplite", "established"}));
        EXPECT_EQ(batch.comments.at("INPUT").front(), "flow-class-set-inbound");
        EXPECT_EQ(batch.comments.at("INPUT").at(1), "established");
    }
}

TEST(IptablesRules, DropCountersSumOnlyTheNflogRulesOfTheBlockedChains) {
    const std::string saved =
        "# Generated by iptables-nft-save v1.8.9\n"
        "*filter\n"
        ":INPUT DROP [0:0]\n"
        ":OUTPUT DROP [3:180]\n"
        ":RUSTYOLO_BLOCKED_OUTPUT - [0:0]\n"
        "[5:300] -A OUTPUT -m comment --comment \"rustyolo:default-drop\" -j RUSTYOLO_BLOCKED_OUTPUT\n"
        "[5:300] -A RUSTYOLO_BLOCKED_OUTPUT -m comment --comment \"rustyolo:log\" -j NFLOG --nflog-prefix "
        "blocked_output --nflog-group 1700 --nflog-size 128\n"
        "[5:300] -A RUSTYOLO_BLOCKED_OUTPUT -m comment --comment \"rustyolo:drop\" -j DROP\n"
        "[2:120] -A RUSTYOLO_BLOCKED_INPUT -m comment --comment \"rustyolo:log\" -j NFLOG --nflog-prefix "
        "blocked_input --nflog-group 1700 --nflog-size 128\n"
        "[4:240] -A RUSTYOLO_BLOCKED_FLOW_CLASS -m comment --comment \"rustyolo:log\" -j NFLOG --nflog-prefix "
        "blocked_flow_class --nflog-group 1700 --nflog-size 128\n"
        "[9:9] -A SOMEONE_ELSE -j NFLOG --nflog-group 3\n"
        "COMMIT\n";
    EXPECT_EQ(drop_counters(saved), 11u);
    EXPECT_EQ(drop_counters(""), 0u);
}

TEST(IptablesRules, SaveParserSeesTheBlockedChainsRules) {
    Saved saved = parse_save(ipv4_batch(spec()).text);
    EXPECT_EQ(saved.comments["RUSTYOLO_BLOCKED_GUARD"], (std::vector<std::string>{"log", "refuse", "drop"}));
    EXPECT_EQ(saved.comments["RUSTYOLO_BLOCKED_INPUT"], (std::vector<std::string>{"log", "drop"}));
    EXPECT_EQ(saved.comments["RUSTYOLO_REFUSE"],
              (std::vector<std::string>{"not-local-source", "tcp-reset", "admin-prohibited"}));
    EXPECT_EQ(saved.policies["OUTPUT"], "DROP");
}

// Loads `text` with ip6tables-restore into the scratch namespace
// (test_support::refusals_to_a_spoofed_source).
int refusals_to_a_spoofed_source(const std::string &text, std::string &problem) {
    return test_support::refusals_to_a_spoofed_source(
        [&]() -> std::string {
            char path[] = "/tmp/rustyolo-ipt-test-XXXXXX";
            int fd = ::mkstemp(path);
            if (fd < 0)
                return "no batch file";
            const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
            ::close(fd);
            const int restored = written ? test_support::run_program({"ip6tables-restore", path}) : -1;
            ::unlink(path);
            return restored == 0 ? "" : "ip6tables-restore failed: " + std::to_string(restored);
        },
        problem);
}

TEST(IptablesRules, OnThisKernelNoRefusalGoesToASourceAddressThatIsNotThisHosts) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a scratch network namespace";
    std::string problem;
    const std::string text = ipv6_batch(spec()).text;
    EXPECT_EQ(refusals_to_a_spoofed_source(text, problem), 0) << problem;
    EXPECT_EQ(problem, "");
    // The twin: without the rule not-local-source, the refusal goes out to the spoofed address.
    const std::string rule = "-A RUSTYOLO_REFUSE -m comment --comment \"rustyolo:not-local-source\" -m addrtype ! --src-type LOCAL -j DROP\n";
    std::string without = text;
    const std::size_t at = without.find(rule);
    ASSERT_NE(at, std::string::npos) << text;
    without.erase(at, rule.size());
    EXPECT_EQ(refusals_to_a_spoofed_source(without, problem), 1) << problem;
    EXPECT_EQ(problem, "");
}

}  // namespace
}  // namespace rustyolo::ipt
