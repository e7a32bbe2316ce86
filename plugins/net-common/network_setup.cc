#include "plugins/net-common/network_setup.hpp"

#include "plugins/net-common/allow_entry.hpp"
#include "plugins/net-common/filter_process.hpp"
#include "plugins/net-common/packet_audit.hpp"

#include <algorithm>
#include <stdexcept>

namespace rustyolo::net {
namespace {

std::string ports_text(const std::vector<std::uint16_t> &ports) {
    std::string out;
    for (std::uint16_t port : ports)
        out += (out.empty() ? "" : ",") + std::to_string(port);
    return out;
}

void add_ports(std::vector<std::uint16_t> &into, const std::vector<std::uint16_t> &ports) {
    into.insert(into.end(), ports.begin(), ports.end());
    std::sort(into.begin(), into.end());
    into.erase(std::unique(into.begin(), into.end()), into.end());
}

}  // namespace

StaticRange static_range(const PlanEgress &entry, bool allow_lan) {
    std::size_t slash = entry.value.find('/');
    auto prefix = net::parse_address(entry.value.substr(0, slash));
    if (!prefix)
        throw std::runtime_error("allow entry \"" + entry.value + "\" is not a CIDR");
    if (slash != std::string::npos) {
        std::string length = entry.value.substr(slash + 1);
        if (length.empty() || length.size() > 3 || !std::all_of(length.begin(), length.end(), ::isdigit) ||
            std::stoul(length) > (prefix->v6 ? 128u : 32u))
            throw std::runtime_error("allow entry \"" + entry.value + "\": bad prefix length");
        prefix->length = static_cast<unsigned>(std::stoul(length));
    }
    if (net::is_loopback(*prefix) || net::is_link_local(*prefix))
        throw std::runtime_error("allow entry \"" + entry.value +
                                 "\" overlaps loopback or link-local space, which is never allowed");
    if (!allow_lan && net::is_private(*prefix))
        throw std::runtime_error("allow entry \"" + entry.value + "\" overlaps a private range but allow_lan is off");
    return StaticRange{prefix->v6, prefix->to_string(), entry.ports};
}

void check_entry(const PlanEgress &entry) {
    if (entry.protocol != "tcp")
        throw std::runtime_error("allow entry \"" + entry.value + "\": protocol \"" + entry.protocol +
                                 "\" is not supported (tcp only)");
    if (entry.ports.empty())
        throw std::runtime_error("allow entry \"" + entry.value + "\" has no ports");
    if (std::find(entry.ports.begin(), entry.ports.end(), 0) != entry.ports.end())
        throw std::runtime_error("allow entry \"" + entry.value + "\" has port 0");
    if (entry.kind == "name" || entry.kind == "wildcard") {
        if (entry.value.empty() || entry.value.find_first_of(" =\n") != std::string::npos)
            throw std::runtime_error("allow entry \"" + entry.value + "\" is not a host name");
    } else if (entry.kind != "cidr") {
        throw std::runtime_error("allow entry \"" + entry.value + "\" has the unknown kind \"" + entry.kind + "\"");
    }
}

Resolver parse_resolver(const std::string &text) {
    std::string normal = net::validate_dns_server(text);
    if (normal == "any")
        throw std::runtime_error("\"any\" is not a resolver address");
    Resolver resolver;
    std::string address = normal;
    if (normal.front() == '[') {
        std::size_t close = normal.find(']');
        address = normal.substr(1, close - 1);
        resolver.port = static_cast<std::uint16_t>(std::stoul(normal.substr(close + 2)));
    } else if (std::count(normal.begin(), normal.end(), ':') == 1) {
        address = normal.substr(0, normal.find(':'));
        resolver.port = static_cast<std::uint16_t>(std::stoul(normal.substr(normal.find(':') + 1)));
    }
    auto prefix = net::parse_address(address);
    if (!prefix)
        throw std::runtime_error("\"" + text + "\" is not a resolver address");
    resolver.v6 = prefix->v6;
    resolver.address = prefix->to_string(false);
    return resolver;
}

NetworkSetup make_network_setup(const Plan &plan, const std::vector<std::string> &engine_nameservers) {
    const PlanNetwork &network = plan.network;
    NetworkSetup setup;
    setup.mode = network.mode;
    if (setup.mode != "filter" && setup.mode != "any")
        throw std::runtime_error("network mode \"" + setup.mode + "\" is neither filter nor any");
    setup.spec.agent_uid = plan.user.uid;
    setup.spec.probe_gid = net::self_test_probe_gid(plan.user.gid);
    setup.spec.allow_lan = network.allow_lan;
    setup.policy.allow_lan = network.allow_lan;

    // Upstream resolvers: the Plan's, or the engine's from resolv.conf at start.
    const std::vector<std::string> &servers = network.dns_servers.empty() ? engine_nameservers : network.dns_servers;
    const char *origin = network.dns_servers.empty() ? "the engine's resolv.conf" : "the plan (--dns-servers)";
    for (const std::string &server : servers) {
        Resolver resolver;
        try {
            resolver = parse_resolver(server);
        } catch (const std::exception &e) {
            throw std::runtime_error(std::string("upstream resolver from ") + origin + ": " + e.what());
        }
        if (std::find(setup.spec.upstreams.begin(), setup.spec.upstreams.end(), resolver) == setup.spec.upstreams.end())
            setup.spec.upstreams.push_back(resolver);
    }
    if (setup.spec.upstreams.empty())
        throw std::runtime_error(std::string("no upstream DNS resolver: ") + origin +
                                 " names none; pass --dns-servers ADDRESS");

    setup.filter_args = {"--udp-fd", std::to_string(filter_udp_fd), "--tcp-fd", std::to_string(filter_tcp_fd),
                         "--events-fd", std::to_string(filter_events_fd), "--ack-fd", std::to_string(filter_ack_fd),
                         "--mode", setup.mode};
    for (const Resolver &r : setup.spec.upstreams)
        setup.filter_args.insert(setup.filter_args.end(),
                                 {"--upstream", (r.v6 ? "[" + r.address + "]" : r.address) + ":" + std::to_string(r.port)});

    for (const PlanEgress &entry : network.allow) {
        check_entry(entry);
        if (entry.kind == "cidr") {
            setup.spec.static_ranges.push_back(static_range(entry, network.allow_lan));
            ++setup.cidrs;
        } else {
            setup.filter_args.insert(setup.filter_args.end(), {"--allow", entry.value + "=" + ports_text(entry.ports)});
            add_ports(setup.policy.ports, entry.ports);
            ++(entry.kind == "name" ? setup.names : setup.wildcards);
        }
    }
    // In mode any, names without an entry get TCP 80 and 443.
    if (setup.mode == "any")
        add_ports(setup.policy.ports, {80, 443});
    return setup;
}

}  // namespace rustyolo::net
