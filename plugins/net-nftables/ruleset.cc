#include "plugins/net-nftables/ruleset.hpp"

#include "plugins/net-common/allow_entry.hpp"
#include "plugins/net-common/nflog_reader.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace rustyolo::nft {
namespace {

const char *l4(bool tcp) { return tcp ? "tcp" : "udp"; }

std::string resolver_text(const Resolver &r) {
    return r.v6 ? "[" + r.address + "]:" + std::to_string(r.port) : r.address + ":" + std::to_string(r.port);
}

// "a.b.c.d/len" -> prefix, for containment checks.
net::Prefix parse_prefix(const std::string &text) {
    std::size_t slash = text.find('/');
    auto prefix = net::parse_address(text.substr(0, slash));
    if (!prefix)
        throw std::invalid_argument("\"" + text + "\" is not an address prefix");
    if (slash != std::string::npos)
        prefix->length = static_cast<unsigned>(std::stoul(text.substr(slash + 1)));
    unsigned bits = prefix->v6 ? 128 : 32;
    if (prefix->length > bits)
        throw std::invalid_argument("\"" + text + "\" has a prefix length beyond " + std::to_string(bits));
    for (unsigned bit = prefix->length; bit < bits; ++bit)  // the network address
        prefix->bytes[bit / 8] = static_cast<std::uint8_t>(prefix->bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    return *prefix;
}

bool contains(const net::Prefix &outer, const net::Prefix &inner) {
    if (outer.v6 != inner.v6 || outer.length > inner.length)
        return false;
    for (unsigned bit = 0; bit < outer.length; ++bit) {
        unsigned mask = 0x80u >> (bit % 8);
        if ((outer.bytes[bit / 8] & mask) != (inner.bytes[bit / 8] & mask))
            return false;
    }
    return true;
}

// Prefixes sorted by start address, without duplicates or prefixes inside others (an interval set
// refuses overlapping elements).
std::vector<net::Prefix> outermost(std::vector<net::Prefix> prefixes) {
    // By start address, the wider first at the same start. Prefixes either nest or are disjoint,
    // so a prefix inside any kept one is inside the last kept one: O(n log n).
    std::sort(prefixes.begin(), prefixes.end(), [](const net::Prefix &a, const net::Prefix &b) {
        if (a.bytes != b.bytes)
            return a.bytes < b.bytes;
        return a.length < b.length;
    });
    std::vector<net::Prefix> kept;
    for (const net::Prefix &prefix : prefixes)
        if (kept.empty() || !contains(kept.back(), prefix))
            kept.push_back(prefix);
    return kept;
}

std::string port_list(const std::vector<std::uint16_t> &ports) {
    std::string out;
    for (std::uint16_t port : ports)
        out += (out.empty() ? "" : ", ") + std::to_string(port);
    return ports.size() == 1 ? out : "{ " + out + " }";
}

// The CIDR entries of one family: grouped by their port list; the max_cidr_sets largest groups
// get a plain interval set of prefixes each (one element per prefix, whatever its ports), the
// rest shares the concatenated "prefix . port" set.
struct CidrGroup {
    std::vector<std::uint16_t> ports;
    std::vector<std::string> prefixes;                      // for the interval set
    std::map<unsigned, std::vector<std::string>> networks;  // prefix length -> network addresses
};

struct CidrLayout {
    std::vector<CidrGroup> groups;
    std::vector<std::string> concatenated;  // "prefix . port"
};

// Prefixes of one length, when a group has at least this many of them, go into a plain set of
// network addresses matched as `daddr & mask`: libnftables computes no intervals for a hash set,
// so it loads faster than an interval set of the same size (`bench.py firewall`).
constexpr std::size_t min_prefixes_for_plain_set = 16;

net::Prefix masked(net::Prefix prefix) {
    const unsigned bytes = prefix.v6 ? 16 : 4;
    for (unsigned i = 0; i < bytes; ++i) {
        const unsigned bit = i * 8;
        if (bit >= prefix.length)
            prefix.bytes[i] = 0;
        else if (bit + 8 > prefix.length)
            prefix.bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (prefix.length - bit)));
    }
    return prefix;
}

std::string mask_text(bool v6, unsigned length) {
    net::Prefix mask;
    mask.v6 = v6;
    mask.length = v6 ? 128 : 32;
    for (unsigned i = 0; i < (v6 ? 16u : 4u); ++i) {
        const unsigned bit = i * 8;
        mask.bytes[i] = bit + 8 <= length ? 0xff : bit >= length ? 0 : static_cast<std::uint8_t>(0xff << (8 - (length - bit)));
    }
    return mask.to_string(false);
}

CidrLayout cidr_layout(const std::vector<StaticRange> &ranges, bool v6) {
    std::map<std::vector<std::uint16_t>, std::vector<net::Prefix>> by_ports;
    for (const StaticRange &range : ranges) {
        if (range.v6 != v6 || range.ports.empty())
            continue;
        std::vector<std::uint16_t> ports = range.ports;
        std::sort(ports.begin(), ports.end());
        ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
        by_ports[ports].push_back(parse_prefix(range.prefix));
    }
    // The largest groups first (ties: by port list), to choose which get their own set.
    std::vector<const std::vector<std::uint16_t> *> order;
    for (const auto &[ports, prefixes] : by_ports)
        order.push_back(&ports);
    std::stable_sort(order.begin(), order.end(), [&](const auto *a, const auto *b) {
        return by_ports.at(*a).size() > by_ports.at(*b).size();
    });
    std::set<std::vector<std::uint16_t>> own;
    for (std::size_t i = 0; i < order.size() && i < max_cidr_sets; ++i)
        own.insert(*order[i]);

    CidrLayout layout;
    std::map<std::uint16_t, std::vector<net::Prefix>> rest_by_port;
    for (auto &[ports, prefixes] : by_ports) {
        if (own.count(ports)) {
            std::vector<net::Prefix> kept = outermost(std::move(prefixes));
            std::map<unsigned, std::size_t> per_length;
            for (const net::Prefix &prefix : kept)
                ++per_length[prefix.length];
            CidrGroup group;
            group.ports = ports;
            for (const net::Prefix &prefix : kept) {
                if (per_length[prefix.length] >= min_prefixes_for_plain_set && prefix.length < (prefix.v6 ? 128u : 32u))
                    group.networks[prefix.length].push_back(masked(prefix).to_string(false));
                else
                    group.prefixes.push_back(prefix.to_string());
            }
            layout.groups.push_back(std::move(group));
        } else {
            for (std::uint16_t port : ports)
                rest_by_port[port].insert(rest_by_port[port].end(), prefixes.begin(), prefixes.end());
        }
    }
    for (auto &[port, prefixes] : rest_by_port)
        for (const net::Prefix &prefix : outermost(std::move(prefixes)))
            layout.concatenated.push_back(prefix.to_string() + " . " + std::to_string(port));
    return layout;
}

}  // namespace

std::string flow_mark(FlowClass flow_class) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(flow_class));
    return text;
}

bool refuses(const std::string &blocked_chain) {
    return blocked_chain == blocked_output_chain || blocked_chain == blocked_guard_chain;
}

std::string blocked_rule_text(const std::string &chain) {
    return "counter log prefix \"" + chain + "\" group " + std::to_string(net::nflog_group) + " snaplen " +
           std::to_string(net::nflog_copy_bytes) + (refuses(chain) ? std::string(" goto ") + refuse_chain : " drop");
}

std::string blocked_rule_comment(const std::string &chain) { return refuses(chain) ? "log-refuse" : "log-drop"; }

Ruleset build_ruleset(const FirewallSpec &spec) {
    Ruleset ruleset;
    const std::string filter_uid = std::to_string(dns_filter_uid);
    const std::string agent_uid = std::to_string(spec.agent_uid);
    const std::string probe_gid = std::to_string(spec.probe_gid);
    if (spec.agent_uid == 0 || spec.agent_uid == dns_filter_uid)
        throw std::invalid_argument("the agent uid " + agent_uid + " must be neither 0 nor the DNS filter's " + filter_uid);

    ruleset.sets.push_back(Set{"allow4", "ipv4_addr . inet_service", {"timeout"}, dynamic_set_size, {}});
    ruleset.sets.push_back(Set{"allow6", "ipv6_addr . inet_service", {"timeout"}, dynamic_set_size, {}});
    CidrLayout cidr4 = cidr_layout(spec.static_ranges, false), cidr6 = cidr_layout(spec.static_ranges, true);
    ruleset.sets.push_back(Set{"static4", "ipv4_addr . inet_service", {"interval"}, 0, std::move(cidr4.concatenated)});
    ruleset.sets.push_back(Set{"static6", "ipv6_addr . inet_service", {"interval"}, 0, std::move(cidr6.concatenated)});
    std::vector<std::pair<std::string, std::string>> cidr_rules;  // comment, text
    for (auto [layout, v6] : {std::pair{&cidr4, false}, std::pair{&cidr6, true}}) {
        for (std::size_t i = 0; i < layout->groups.size(); ++i) {
            CidrGroup &group = layout->groups[i];
            const std::string name = std::string(v6 ? "cidr6_" : "cidr4_") + std::to_string(i);
            const std::string family = v6 ? "ip6" : "ip";
            const std::string ports = " tcp dport " + port_list(group.ports) + " accept";
            for (auto &[length, networks] : group.networks) {
                const std::string plain = name + "_" + std::to_string(length);
                cidr_rules.emplace_back(std::string(v6 ? "cidr-6 " : "cidr-4 ") + plain,
                                        family + " daddr & " + mask_text(v6, length) + " @" + plain + ports);
                ruleset.sets.push_back(Set{plain, v6 ? "ipv6_addr" : "ipv4_addr", {}, 0, std::move(networks)});
            }
            if (group.prefixes.empty())
                continue;
            cidr_rules.emplace_back(std::string(v6 ? "cidr-6 " : "cidr-4 ") + name, family + " daddr @" + name + ports);
            ruleset.sets.push_back(Set{name, v6 ? "ipv6_addr" : "ipv4_addr", {"interval"}, 0, std::move(group.prefixes)});
        }
    }
    ruleset.sets.push_back(Set{live_set4, "ipv4_addr . inet_service", {"interval"}, 0, {}});
    ruleset.sets.push_back(Set{live_set6, "ipv6_addr . inet_service", {"interval"}, 0, {}});
    ruleset.sets.push_back(Set{"never4", "ipv4_addr", {"interval"}, 0, net::never_ranges_v4(spec.allow_lan)});
    ruleset.sets.push_back(Set{"never6", "ipv6_addr", {"interval"}, 0, net::never_ranges_v6(spec.allow_lan)});

    Chain output{"output", "output", "", {}};
    auto add = [](Chain &chain, std::string comment, std::string text) {
        chain.rules.push_back(Rule{std::move(comment), std::move(text)});
    };
    // Flows keep their class. A socket that is closed leaves its conntrack entry behind (a UDP
    // flow lives on for 30-120 s); another process that binds the same address and port would
    // continue that flow as "established", past every per-uid rule below (the DNS filter's
    // upstream flows in particular). So every flow carries the class of the socket that opened
    // it, set once by the packet that creates the entry, and a packet from a socket of another
    // class is dropped and audited before "established" is looked at. Packets without a socket
    // (the kernel's RSTs, TIME_WAIT ACKs, ICMP errors; a closed socket's last segments) carry no
    // uid: no flow-class rule matches them.
    const std::string agent_group = "meta skuid " + agent_uid + " meta skgid != " + probe_gid;
    const std::string probe_group = "meta skuid " + agent_uid + " meta skgid " + probe_gid;
    const std::string other_uids = "meta skuid != { 0, " + filter_uid + ", " + agent_uid + " }";
    const std::vector<std::tuple<const char *, std::string, FlowClass>> classes{
        {"agent", agent_group, FlowClass::agent},
        {"probe", probe_group, FlowClass::probe},
        {"dns-filter", "meta skuid " + filter_uid, FlowClass::dns_filter},
        {"root", "meta skuid 0", FlowClass::root},
        {"other", other_uids, FlowClass::other},
    };
    for (const auto &[name, socket, flow_class] : classes)
        add(output, std::string("flow-class-set-") + name,
            "ct state new ct status ! confirmed " + socket + " ct mark set " + flow_mark(flow_class));
    for (const auto &[name, socket, flow_class] : classes)
        add(output, std::string("flow-class-") + name,
            "ct direction original " + socket + " ct mark != " + flow_mark(flow_class) + " goto " +
                blocked_flow_class_chain);
    // Replies from a local socket exist on lo only (inbound flows from elsewhere are dropped on
    // input): the stub's replies to the agent (root's UDP socket, the filter's TCP ones), the
    // agent's own local services answering the agent. The agent answers only flows it opened
    // (or that came from outside): it cannot stand in for the other end of anyone else's flow.
    add(output, "flow-class-agent-reply",
        "ct direction reply meta skuid " + agent_uid + " ct mark != { " + flow_mark(FlowClass::agent) + ", " +
            flow_mark(FlowClass::inbound) + " } goto " + blocked_flow_class_chain);
    // A UDP (or UDP-Lite) packet of a flow's original direction that no socket with an owner
    // sent: kernel-internal sockets (AF_RXRPC, AF_SMC, RDS, tunnels: no file, no uid) would
    // otherwise continue any flow as "established" past every per-uid rule. A `meta skuid`
    // comparison does not match such a packet, so the chain returns for every packet that has an
    // owner and blocks the rest. TCP is left out on purpose: the kernel's RSTs and TIME_WAIT ACKs
    // have no socket; ICMP errors are not UDP.
    add(output, "flow-class-no-socket",
        "ct direction original meta l4proto { udp, udplite } jump " + std::string(no_socket_chain));
    add(output, "established", "ct state established,related accept");
    // On lo the agent sends from 127.0.0.1 only. From another loopback address (127.0.0.11:53 in
    // particular, bound by the agent) its packets would open conntrack entries whose reply
    // direction is the filter's next upstream query: that query would then be "established",
    // escape Docker's DNAT of 127.0.0.11 and reach the agent, which could answer it.
    add(output, "agent-loopback-source-4",
        "oif \"lo\" meta skuid " + agent_uid + " ip saddr != 127.0.0.1 goto " + blocked_output_chain);
    add(output, "agent-loopback-6", "oif \"lo\" meta skuid " + agent_uid + " meta nfproto ipv6 goto " +
                                        blocked_output_chain);
    for (bool tcp : {false, true})
        add(output, std::string("stub-") + l4(tcp),
            std::string("ip daddr 127.0.0.1 ") + l4(tcp) + " dport 53 accept");
    for (const Resolver &r : spec.upstreams) {
        std::string match = std::string(r.v6 ? "ct original ip6 daddr " : "ct original ip daddr ") + r.address +
                            " ct original proto-dst " + std::to_string(r.port);
        for (bool tcp : {false, true})
            add(output, std::string("upstream-") + l4(tcp) + " " + resolver_text(r),
                "meta skuid " + filter_uid + " meta l4proto " + l4(tcp) + " " + match + " accept");
        add(output, "upstream-closed-udp " + resolver_text(r), "meta l4proto udp " + match + " reject");
        add(output, "upstream-closed-tcp " + resolver_text(r),
            "meta l4proto tcp " + match + " reject with tcp reset");
    }
    if (net::uses_engine_resolver(spec))
        for (bool tcp : {false, true})
            add(output, std::string("engine-resolver-forwarding-") + l4(tcp),
                std::string("meta skuid 0 ") + l4(tcp) + " dport 53 accept");
    add(output, "dns-filter-nothing-else", "meta skuid " + filter_uid + " goto " + blocked_output_chain);
    add(output, "ipv6-neighbour-discovery",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
    // The kernel's own IPv6 link-control messages (multicast listener reports, router
    // solicitations) when IPv6 is on: dropped without an audit record, since they are not the
    // agent's doing (sending these types needs CAP_NET_RAW, which no process of the agent has).
    add(output, "ipv6-kernel-link-control",
        "icmpv6 type { mld-listener-report, mld2-listener-report, nd-router-solicit } ip6 daddr ff02::/16 drop");
    add(output, "agent-local-services", "oif \"lo\" meta skuid " + agent_uid + " ip daddr 127.0.0.1 accept");
    add(output, "guard-never4", std::string("ip daddr @never4 goto ") + blocked_guard_chain);
    add(output, "guard-never6", std::string("ip6 daddr @never6 goto ") + blocked_guard_chain);
    add(output, "dns-answers-4", "ip daddr . tcp dport @allow4 accept");
    add(output, "dns-answers-6", "ip6 daddr . tcp dport @allow6 accept");
    for (auto &[comment, text] : cidr_rules)
        add(output, comment, text);
    add(output, "cidr-4", "ip daddr . tcp dport @static4 accept");
    add(output, "cidr-6", "ip6 daddr . tcp dport @static6 accept");
    add(output, "live-cidr-4", std::string("ip daddr . tcp dport @") + live_set4 + " accept");
    add(output, "live-cidr-6", std::string("ip6 daddr . tcp dport @") + live_set6 + " accept");
    add(output, "default-drop", std::string("goto ") + blocked_output_chain);

    Chain input{"input", "input", "", {}};
    // A flow whose first packet arrives from outside. On lo the entry was created (and marked) on
    // output already, so it is confirmed here and keeps its mark.
    add(input, "flow-class-set-inbound",
        "ct state new ct status ! confirmed ct mark set " + flow_mark(FlowClass::inbound));
    add(input, "established", "ct state established,related accept");
    // Whatever arrives on lo was sent from this namespace and has passed the output chain already
    // (including the engine resolver's 127.0.0.11, which Docker DNATs to another port).
    add(input, "loopback-filtered-on-output", "iif \"lo\" accept");
    add(input, "ipv6-neighbour-discovery",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
    add(input, "default-drop", std::string("goto ") + blocked_input_chain);

    Chain forward{"forward", "forward", "", {}};

    // Every blocked packet: counted (the exact total), logged to the supervisor's NFLOG reader
    // with the chain's name as the prefix (the audit record's rule), then refused or dropped.
    auto blocked = [&](const char *name) {
        Chain chain{name, "", "audit: every packet is counted, logged to NFLOG group " +
                                   std::to_string(net::nflog_group) + (refuses(name) ? " and refused" : " and dropped"),
                    {}};
        add(chain, blocked_rule_comment(name), blocked_rule_text(name));
        return chain;
    };
    // The refusal. Its own packets (the reset, the ICMP error) carry the blocked packet's conntrack
    // entry as "related" and no socket: they pass `established` on output and `iif lo` on input,
    // and are neither counted nor logged. Only from the output hook (reject is refused elsewhere).
    const std::string rate = std::to_string(refuse_per_second);
    Chain refuse{refuse_chain, "", "a blocked packet of this host's own: a TCP reset or ICMP administratively "
                                   "prohibited to its sender, at most " + rate + "/s", {}};
    // Only to one of this host's own addresses. With IPv6, IPV6_FREEBIND lets an unprivileged
    // socket send from any source address: a refusal to it would leave the host as "related",
    // past the firewall, quoting the blocked packet (a channel to any host). Such a packet is
    // only dropped (it was counted and logged already). IPv4 refuses non-local sources at send.
    add(refuse, "not-local-source", "fib saddr type != local drop");
    add(refuse, "over-limit", "limit rate over " + rate + "/second burst " + rate + " packets drop");
    add(refuse, "tcp-reset", "meta l4proto tcp reject with tcp reset");
    add(refuse, "admin-prohibited", "reject with icmpx admin-prohibited");
    Chain blocked_out = blocked(blocked_output_chain);
    Chain blocked_guard = blocked(blocked_guard_chain);
    Chain blocked_in = blocked(blocked_input_chain);
    Chain blocked_flow = blocked(blocked_flow_class_chain);

    Chain no_socket{no_socket_chain, "", "a packet without an owning socket goes to " +
                                             std::string(blocked_flow_class_chain), {}};
    add(no_socket, "socket-owner", "meta skuid >= 0 return");
    add(no_socket, "no-socket", std::string("goto ") + blocked_flow_class_chain);

    ruleset.chains = {std::move(refuse), std::move(blocked_out), std::move(blocked_guard), std::move(blocked_in),
                      std::move(blocked_flow), std::move(no_socket), std::move(output), std::move(input),
                      std::move(forward)};
    return ruleset;
}

std::string live_cidr_script(const std::vector<StaticRange> &ranges) {
    std::string script;
    for (bool v6 : {false, true}) {
        std::map<std::uint16_t, std::vector<net::Prefix>> by_port;
        for (const StaticRange &range : ranges)
            if (range.v6 == v6)
                for (std::uint16_t port : range.ports)
                    by_port[port].push_back(parse_prefix(range.prefix));
        const std::string set = std::string(table_family) + " " + table_name + " " + (v6 ? live_set6 : live_set4);
        script += "flush set " + set + "\n";
        std::string elements;
        for (auto &[port, prefixes] : by_port)
            for (const net::Prefix &prefix : outermost(std::move(prefixes)))
                elements += (elements.empty() ? "" : ", ") + prefix.to_string() + " . " + std::to_string(port);
        if (!elements.empty())
            script += "add element " + set + " { " + elements + " }\n";
    }
    return script;
}

std::string removal_script(const std::vector<Element> &elements) {
    std::string script;
    for (bool v6 : {false, true}) {
        std::string listed;
        for (const Element &element : elements)
            if (element.v6 == v6)
                listed += (listed.empty() ? "" : ", ") + element.address + " . " + std::to_string(element.port);
        if (listed.empty())
            continue;
        const std::string set = std::string(table_family) + " " + table_name + (v6 ? " allow6" : " allow4");
        std::string with_timeout;
        for (const Element &element : elements)
            if (element.v6 == v6)
                with_timeout += (with_timeout.empty() ? "" : ", ") + element.address + " . " +
                                std::to_string(element.port) + " timeout 1s";
        script += "add element " + set + " { " + with_timeout + " }\n";
        script += "delete element " + set + " { " + listed + " }\n";
    }
    return script;
}

std::string render_transaction(const Ruleset &ruleset) {
    const std::string table = std::string(table_family) + " " + table_name;
    // `create` fails when the table exists (a fresh network namespace has none): a table that is
    // there already belongs to someone else and is neither merged into nor replaced. The table and
    // everything in it is one batch: the kernel applies everything or nothing.
    std::string out = "create table " + table + "\ntable " + table + " {\n";
    for (const Set &set : ruleset.sets) {
        out += "\tset " + set.name + " {\n\t\ttype " + set.type + "\n";
        if (!set.flags.empty()) {
            out += "\t\tflags ";
            for (std::size_t i = 0; i < set.flags.size(); ++i)
                out += (i ? ", " : "") + set.flags[i];
            out += "\n";
        }
        if (set.size)
            out += "\t\tsize " + std::to_string(set.size) + "\n";
        if (!set.elements.empty()) {
            out += "\t\telements = { ";
            for (std::size_t i = 0; i < set.elements.size(); ++i)
                out += (i ? ",\n\t\t\t" : "") + set.elements[i];
            out += " }\n";
        }
        out += "\t}\n";
    }
    for (const Chain &chain : ruleset.chains) {
        out += "\tchain " + chain.name + " {\n";
        if (!chain.hook.empty())
            out += "\t\ttype filter hook " + chain.hook + " priority filter; policy drop;\n";
        if (!chain.comment.empty())
            out += "\t\tcomment \"" + chain.comment + "\"\n";
        for (const Rule &rule : chain.rules)
            out += "\t\t" + rule.text + " comment \"" + rule.comment + "\"\n";
        out += "\t}\n";
    }
    out += "}\n";
    return out;
}

}  // namespace rustyolo::nft
