#include "plugins/net-iptables/iptables_rules.hpp"

#include "plugins/net-common/nflog_reader.hpp"

#include <sstream>
#include <tuple>

namespace rustyolo::ipt {
namespace {

class Builder {
public:
    explicit Builder(bool v6) : v6_(v6) {
        text_ = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n";
        for (const char *chain : {refuse_chain, blocked_output_chain, blocked_guard_chain, blocked_input_chain,
                                  blocked_flow_class_chain})
            text_ += ":" + std::string(chain) + " - [0:0]\n";
    }
    // The comment goes first: target options (--reject-with) must stay last.
    void rule(const std::string &chain, const std::string &id, const std::string &match) {
        text_ += "-A " + chain + " -m comment --comment \"rustyolo:" + id + "\" " + match + "\n";
        comments_[chain].push_back(id);
    }
    Batch finish() {
        text_ += "COMMIT\n";
        return Batch{text_, comments_};
    }
    bool v6() const { return v6_; }

private:
    bool v6_;
    std::string text_;
    std::map<std::string, std::vector<std::string>> comments_;
};

std::string host(const std::string &address, bool v6) { return address + (v6 ? "/128" : "/32"); }

std::string resolver_id(const net::Resolver &r) { return r.address + ":" + std::to_string(r.port); }

std::string mark(net::FlowClass flow_class) { return std::to_string(static_cast<std::uint32_t>(flow_class)); }

// Flows keep their class: the same rules as net-nftables' flow-class-* (see ruleset.cc there).
// xt_owner matches nothing for a packet without a socket, but an inverted match (`! --uid-owner`)
// is true for a closed socket's last segments (the socket has no file any more): every class is
// therefore matched with a positive --uid-owner first, which only a socket with a file passes.
void flow_class_rules(Builder &b, const IptablesSpec &spec, const std::string &blocked_flow) {
    const std::string agent = std::to_string(spec.base.agent_uid);
    const std::string probe = std::to_string(spec.base.probe_gid);
    const std::string filter = std::to_string(net::dns_filter_uid);
    const std::vector<std::tuple<const char *, std::string, net::FlowClass>> classes{
        {"agent", "-m owner --uid-owner " + agent + " ! --gid-owner " + probe, net::FlowClass::agent},
        {"probe", "-m owner --uid-owner " + agent + " --gid-owner " + probe, net::FlowClass::probe},
        {"dns-filter", "-m owner --uid-owner " + filter, net::FlowClass::dns_filter},
        {"root", "-m owner --uid-owner 0", net::FlowClass::root},
        {"other", "-m owner --uid-owner 1-4294967294 -m owner ! --uid-owner " + filter + " -m owner ! --uid-owner " + agent,
         net::FlowClass::other},
    };
    for (const auto &[name, socket, flow_class] : classes)
        b.rule("OUTPUT", std::string("flow-class-set-") + name,
               "-m conntrack --ctstate NEW ! --ctstatus CONFIRMED " + socket + " -j CONNMARK --set-mark " +
                   mark(flow_class));
    for (const auto &[name, socket, flow_class] : classes)
        b.rule("OUTPUT", std::string("flow-class-") + name,
               "-m conntrack --ctdir ORIGINAL " + socket + " -m connmark ! --mark " + mark(flow_class) + " " +
                   blocked_flow);
    b.rule("OUTPUT", "flow-class-agent-reply",
           "-m conntrack --ctdir REPLY -m owner --uid-owner " + agent + " -m connmark ! --mark " +
               mark(net::FlowClass::agent) + " -m connmark ! --mark " + mark(net::FlowClass::inbound) + " " +
               blocked_flow);
    // Original-direction UDP without an owning socket (net-nftables' flow-class-no-socket): an
    // inverted uid match over every uid is true exactly for a packet without a socket or from a
    // socket without a file (kernel-internal sockets), and false for every socket with an owner.
    for (const char *proto : {"udp", "udplite"})
        b.rule("OUTPUT", std::string("flow-class-no-socket-") + proto,
               std::string("-p ") + proto + " -m conntrack --ctdir ORIGINAL -m owner ! --uid-owner 0-4294967294 " +
                   blocked_flow);
}

Batch build(const IptablesSpec &spec, bool v6) {
    Builder b(v6);
    const std::string filter_uid = std::to_string(net::dns_filter_uid);
    const std::string agent_uid = std::to_string(spec.base.agent_uid);
    const std::string blocked = std::string("-j ") + blocked_output_chain;
    const std::string guard = std::string("-j ") + blocked_guard_chain;
    const std::string icmp6_nd = "-p ipv6-icmp -m icmp6 --icmpv6-type ";

    b.rule("INPUT", "flow-class-set-inbound",
           "-m conntrack --ctstate NEW ! --ctstatus CONFIRMED -j CONNMARK --set-mark " + mark(net::FlowClass::inbound));
    b.rule("INPUT", "established", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    b.rule("INPUT", "loopback-filtered-on-output", "-i lo -j ACCEPT");
    if (v6) {
        b.rule("INPUT", "ipv6-neighbour-solicit", icmp6_nd + "135 -m hl --hl-eq 255 -j ACCEPT");
        b.rule("INPUT", "ipv6-neighbour-advert", icmp6_nd + "136 -m hl --hl-eq 255 -j ACCEPT");
    }
    b.rule("INPUT", "default-drop", std::string("-j ") + blocked_input_chain);

    flow_class_rules(b, spec, std::string("-j ") + blocked_flow_class_chain);
    b.rule("OUTPUT", "established", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    // On lo the agent sends from 127.0.0.1 only (see plugins/net-nftables/README.md,
    // agent-loopback-source-4): never from 127.0.0.11, never over IPv6.
    b.rule("OUTPUT", v6 ? "agent-loopback-6" : "agent-loopback-source-4",
           std::string(v6 ? "" : "! -s 127.0.0.1/32 ") + "-o lo -m owner --uid-owner " + agent_uid + " " + blocked);
    if (!v6) {
        b.rule("OUTPUT", "stub-udp", "-d 127.0.0.1/32 -p udp -m udp --dport 53 -j ACCEPT");
        b.rule("OUTPUT", "stub-tcp", "-d 127.0.0.1/32 -p tcp -m tcp --dport 53 -j ACCEPT");
    }
    for (const net::Resolver &r : spec.base.upstreams) {
        if (r.v6 != v6)
            continue;
        std::string match = "-m conntrack --ctorigdst " + host(r.address, v6) + " --ctorigdstport " + std::to_string(r.port);
        b.rule("OUTPUT", "upstream-udp " + resolver_id(r),
               "-p udp -m owner --uid-owner " + filter_uid + " " + match + " -j ACCEPT");
        b.rule("OUTPUT", "upstream-tcp " + resolver_id(r),
               "-p tcp -m owner --uid-owner " + filter_uid + " " + match + " -j ACCEPT");
        b.rule("OUTPUT", "upstream-closed-udp " + resolver_id(r), "-p udp " + match + " -j REJECT");
        b.rule("OUTPUT", "upstream-closed-tcp " + resolver_id(r), "-p tcp " + match + " -j REJECT --reject-with tcp-reset");
    }
    if (!v6 && net::uses_engine_resolver(spec.base)) {
        b.rule("OUTPUT", "engine-resolver-forwarding-udp", "-p udp -m owner --uid-owner 0 -m udp --dport 53 -j ACCEPT");
        b.rule("OUTPUT", "engine-resolver-forwarding-tcp", "-p tcp -m owner --uid-owner 0 -m tcp --dport 53 -j ACCEPT");
    }
    b.rule("OUTPUT", "dns-filter-nothing-else", "-m owner --uid-owner " + filter_uid + " " + blocked);
    if (v6) {
        b.rule("OUTPUT", "ipv6-neighbour-solicit", icmp6_nd + "135 -m hl --hl-eq 255 -j ACCEPT");
        b.rule("OUTPUT", "ipv6-neighbour-advert", icmp6_nd + "136 -m hl --hl-eq 255 -j ACCEPT");
    } else {
        b.rule("OUTPUT", "agent-local-services", "-d 127.0.0.1/32 -o lo -m owner --uid-owner " + agent_uid + " -j ACCEPT");
    }
    for (const std::string &range : v6 ? net::never_ranges_v6(spec.base.allow_lan) : net::never_ranges_v4(spec.base.allow_lan))
        b.rule("OUTPUT", "guard " + range, "-d " + range + " " + guard);
    for (const StaticAddress &a : spec.addresses) {
        if (a.v6 != v6)
            continue;
        for (std::uint16_t port : a.ports)
            b.rule("OUTPUT", "name " + a.address + ":" + std::to_string(port),
                   "-d " + host(a.address, v6) + " -p tcp -m tcp --dport " + std::to_string(port) + " -j ACCEPT");
    }
    for (const net::StaticRange &range : spec.base.static_ranges) {
        if (range.v6 != v6)
            continue;
        for (std::uint16_t port : range.ports)
            b.rule("OUTPUT", "cidr " + range.prefix + ":" + std::to_string(port),
                   "-d " + range.prefix + " -p tcp -m tcp --dport " + std::to_string(port) + " -j ACCEPT");
    }
    b.rule("OUTPUT", "default-drop", blocked);
    for (auto [chain, rule] : {std::pair{blocked_output_chain, "blocked_output"}, std::pair{blocked_guard_chain, "blocked_guard"},
                               std::pair{blocked_input_chain, "blocked_input"},
                               std::pair{blocked_flow_class_chain, "blocked_flow_class"}}) {
        b.rule(chain, "log", "-j NFLOG --nflog-prefix " + std::string(rule) + " --nflog-group " +
                                 std::to_string(net::nflog_group) + " --nflog-size " +
                                 std::to_string(net::nflog_copy_bytes));
        if (refuses(chain))
            b.rule(chain, "refuse", "-m limit --limit " + std::to_string(refuse_per_second) + "/sec --limit-burst " +
                                        std::to_string(refuse_per_second) + " -j " + refuse_chain);
        b.rule(chain, "drop", "-j DROP");
    }
    // The refusal (net-nftables' chain `refuse`): its reset or ICMP error is RELATED to the
    // blocked packet's conntrack entry and passes `established`; no counter sees it.
    // Only to this host's own addresses (net-nftables' not-local-source: an IPv6 socket with
    // IPV6_FREEBIND can send from any address, and the refusal would leave the host).
    b.rule(refuse_chain, "not-local-source", "-m addrtype ! --src-type LOCAL -j DROP");
    b.rule(refuse_chain, "tcp-reset", "-p tcp -j REJECT --reject-with tcp-reset");
    b.rule(refuse_chain, "admin-prohibited",
           std::string("-j REJECT --reject-with ") + (b.v6() ? "icmp6-adm-prohibited" : "icmp-admin-prohibited"));
    return b.finish();
}

}  // namespace

bool refuses(const std::string &blocked_chain) {
    return blocked_chain == blocked_output_chain || blocked_chain == blocked_guard_chain;
}

Batch ipv4_batch(const IptablesSpec &spec) { return build(spec, false); }
Batch ipv6_batch(const IptablesSpec &spec) { return build(spec, true); }

Saved parse_save(const std::string &text) {
    Saved saved;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.size() > 1 && line[0] == ':') {
            std::istringstream words(line.substr(1));
            std::string chain, policy;
            words >> chain >> policy;
            if (policy != "-")
                saved.policies[chain] = policy;
            continue;
        }
        if (line.rfind("-A ", 0) != 0)
            continue;
        std::istringstream words(line.substr(3));
        std::string chain;
        words >> chain;
        std::string id;
        const std::string marker = "--comment \"rustyolo:";
        if (std::size_t at = line.find(marker); at != std::string::npos) {
            std::size_t start = at + marker.size();
            std::size_t end = line.find('"', start);
            id = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
        } else if (std::size_t plain = line.find("--comment rustyolo:"); plain != std::string::npos) {
            std::size_t start = plain + std::string("--comment rustyolo:").size();
            id = line.substr(start, line.find(' ', start) - start);
        }
        saved.comments[chain].push_back(id);  // "" for a rule that is not ours
    }
    return saved;
}

std::uint64_t drop_counters(const std::string &save_text) {
    std::uint64_t total = 0;
    std::istringstream in(save_text);
    for (std::string line; std::getline(in, line);) {
        // "[12:720] -A RUSTYOLO_BLOCKED_OUTPUT -m comment --comment "rustyolo:log" -j NFLOG ..."
        if (line.size() < 2 || line[0] != '[' || line.find(" -j NFLOG") == std::string::npos)
            continue;
        std::size_t close = line.find("] -A ");
        if (close == std::string::npos)
            continue;
        std::istringstream words(line.substr(close + 5));
        std::string chain;
        words >> chain;
        if (chain != blocked_output_chain && chain != blocked_guard_chain && chain != blocked_input_chain &&
            chain != blocked_flow_class_chain)
            continue;
        std::string packets = line.substr(1, line.find(':') - 1);
        if (packets.empty() || packets.find_first_not_of("0123456789") != std::string::npos)
            continue;
        total += std::stoull(packets);
    }
    return total;
}

}  // namespace rustyolo::ipt
