#include "ruleset.hpp"

#include "allow_entry.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

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

// "prefix . port" elements of one family, without duplicates or ranges inside other ranges of the
// same port (an interval set refuses overlapping elements).
std::vector<std::string> static_elements(const std::vector<StaticRange> &ranges, bool v6) {
    std::map<std::uint16_t, std::vector<std::pair<net::Prefix, std::string>>> by_port;
    for (const StaticRange &range : ranges) {
        if (range.v6 != v6)
            continue;
        net::Prefix prefix = parse_prefix(range.prefix);
        for (std::uint16_t port : range.ports)
            by_port[port].emplace_back(prefix, range.prefix);
    }
    std::vector<std::string> elements;
    for (auto &[port, prefixes] : by_port) {
        // By start address, the wider first at the same start. Prefixes either nest or are
        // disjoint, so a prefix inside any kept one is inside the last kept one: O(n log n).
        std::sort(prefixes.begin(), prefixes.end(), [](const auto &a, const auto &b) {
            if (a.first.bytes != b.first.bytes)
                return a.first.bytes < b.first.bytes;
            return a.first.length < b.first.length;
        });
        const net::Prefix *last = nullptr;
        for (const auto &[prefix, text] : prefixes) {
            if (last && contains(*last, prefix))
                continue;
            last = &prefix;
            elements.push_back(prefix.to_string() + " . " + std::to_string(port));
        }
    }
    return elements;
}

}  // namespace

bool uses_engine_resolver(const RulesetSpec &spec) {
    return std::any_of(spec.upstreams.begin(), spec.upstreams.end(),
                       [](const Resolver &r) { return !r.v6 && r.address == "127.0.0.11"; });
}

std::vector<std::string> never_ranges_v4(bool allow_lan) {
    std::vector<std::string> ranges{"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"};
    if (!allow_lan)
        ranges.insert(ranges.end(), {"10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"});
    return ranges;
}

std::vector<std::string> never_ranges_v6(bool allow_lan) {
    // ::ffff:0:0/96 (IPv4-mapped) never appears on the wire: such connections are IPv4.
    std::vector<std::string> ranges{"::/128", "::1/128", "::ffff:0:0/96", "fe80::/10", "ff00::/8"};
    if (!allow_lan)
        ranges.insert(ranges.end(), {"fc00::/7", "fec0::/10"});
    return ranges;
}

Ruleset build_ruleset(const RulesetSpec &spec) {
    Ruleset ruleset;
    const std::string filter_uid = std::to_string(dns_filter_uid);
    const std::string agent_uid = std::to_string(spec.agent_uid);
    if (spec.agent_uid == 0 || spec.agent_uid == dns_filter_uid)
        throw std::invalid_argument("the agent uid " + agent_uid + " must be neither 0 nor the DNS filter's " + filter_uid);

    ruleset.sets.push_back(Set{"allow4", "ipv4_addr . inet_service", {"timeout"}, spec.set_size, {}});
    ruleset.sets.push_back(Set{"allow6", "ipv6_addr . inet_service", {"timeout"}, spec.set_size, {}});
    ruleset.sets.push_back(Set{"static4", "ipv4_addr . inet_service", {"interval"}, 0, static_elements(spec.static_ranges, false)});
    ruleset.sets.push_back(Set{"static6", "ipv6_addr . inet_service", {"interval"}, 0, static_elements(spec.static_ranges, true)});
    ruleset.sets.push_back(Set{"never4", "ipv4_addr", {"interval"}, 0, never_ranges_v4(spec.allow_lan)});
    ruleset.sets.push_back(Set{"never6", "ipv6_addr", {"interval"}, 0, never_ranges_v6(spec.allow_lan)});

    Chain output{"output", "output", "", {}};
    auto add = [](Chain &chain, std::string comment, std::string text) {
        chain.rules.push_back(Rule{std::move(comment), std::move(text)});
    };
    add(output, "established", "ct state established,related accept");
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
    if (uses_engine_resolver(spec))
        for (bool tcp : {false, true})
            add(output, std::string("engine-resolver-forwarding-") + l4(tcp),
                std::string("meta skuid 0 ") + l4(tcp) + " dport 53 accept");
    add(output, "dns-filter-nothing-else", "meta skuid " + filter_uid + " goto " + blocked_output_chain);
    add(output, "ipv6-neighbour-discovery",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
    add(output, "agent-local-services", "oif \"lo\" meta skuid " + agent_uid + " ip daddr 127.0.0.1 accept");
    add(output, "guard-never4", std::string("ip daddr @never4 goto ") + blocked_guard_chain);
    add(output, "guard-never6", std::string("ip6 daddr @never6 goto ") + blocked_guard_chain);
    add(output, "dns-answers-4", "ip daddr . tcp dport @allow4 accept");
    add(output, "dns-answers-6", "ip6 daddr . tcp dport @allow6 accept");
    add(output, "cidr-4", "ip daddr . tcp dport @static4 accept");
    add(output, "cidr-6", "ip6 daddr . tcp dport @static6 accept");
    add(output, "default-drop", std::string("goto ") + blocked_output_chain);

    Chain input{"input", "input", "", {}};
    add(input, "established", "ct state established,related accept");
    // Whatever arrives on lo was sent from this namespace and has passed the output chain already
    // (including the engine resolver's 127.0.0.11, which Docker DNATs to another port).
    add(input, "loopback-filtered-on-output", "iif \"lo\" accept");
    add(input, "ipv6-neighbour-discovery",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
    add(input, "default-drop", std::string("goto ") + blocked_input_chain);

    Chain forward{"forward", "forward", "", {}};

    const char *audit_hook = "audit hook: log group N goes before this drop";
    Chain blocked_out{blocked_output_chain, "", audit_hook, {}};
    add(blocked_out, "drop", "counter drop");
    Chain blocked_guard{blocked_guard_chain, "", audit_hook, {}};
    add(blocked_guard, "drop", "counter drop");
    Chain blocked_in{blocked_input_chain, "", audit_hook, {}};
    add(blocked_in, "drop", "counter drop");

    ruleset.chains = {std::move(blocked_out), std::move(blocked_guard), std::move(blocked_in), std::move(output),
                      std::move(input), std::move(forward)};
    return ruleset;
}

std::string render_transaction(const Ruleset &ruleset) {
    const std::string table = std::string(table_family) + " " + table_name;
    // Create-then-delete makes the delete valid whether or not the table exists; all of it, and
    // the new table, is one batch: the kernel applies everything or nothing.
    std::string out = "add table " + table + "\ndelete table " + table + "\ntable " + table + " {\n";
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
