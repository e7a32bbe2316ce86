// What every firewall of the sandbox installs, independent of its mechanism (net-nftables renders
// it as table inet rustyolo, net-iptables as iptables-restore batches): the uids and flow classes
// the rules are written for, the upstream resolvers only the DNS filter may reach, the CIDR entries
// opened statically, and the destinations that are never allowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::net {

// The DNS filter's uid and gid: only it may reach the upstream resolvers.
inline constexpr std::uint32_t dns_filter_uid = 65533;
inline constexpr std::uint32_t dns_filter_gid = 65533;

// An upstream resolver the DNS filter forwards to.
struct Resolver {
    bool v6 = false;
    std::string address;  // canonical text
    std::uint16_t port = 53;
    bool operator==(const Resolver &) const = default;
};

// A CIDR allow entry (already validated by allow_entry.hpp; re-checked by make_network_setup).
struct StaticRange {
    bool v6 = false;
    std::string prefix;                // "10.0.0.0/8", "2001:db8::/32", "1.2.3.4/32"
    std::vector<std::uint16_t> ports;  // TCP
};

// The class of the socket that opened a flow, kept as the flow's conntrack mark (the whole mark:
// nothing else in the container's namespace uses it). Set once, by the packet that creates the
// conntrack entry, from constants: never copied from a packet mark (SO_MARK) or a socket. The
// agent can change neither (both need CAP_NET_ADMIN). A flow may only be continued by its class;
// docs/security-model.md, "Flows keep their class".
enum class FlowClass : std::uint32_t {
    kernel = 0,      // no socket opened it (the kernel's own packets); no socket may continue it
    agent = 1,       // the agent's uid (any group but the probe group)
    dns_filter = 2,  // the DNS filter's uid
    root = 3,        // uid 0: the supervisor, dockerd's embedded resolver forwarding from here
    probe = 4,       // the agent's uid with the self-test's probe group
    other = 5,       // any other uid (supervisor-side helpers)
    inbound = 6,     // opened from outside (first seen on input)
};

// The inputs of a firewall's rules.
struct FirewallSpec {
    std::uint32_t agent_uid = 1000;
    std::uint32_t probe_gid = 65532;  // the self-test's probe group (self_test_probe_gid)
    std::vector<Resolver> upstreams;
    bool allow_lan = false;
    std::vector<StaticRange> static_ranges;
};

// True when Docker's embedded resolver (127.0.0.11) is an upstream: root (dockerd's resolver
// forwarding from the container's namespace) may then send to port 53.
bool uses_engine_resolver(const FirewallSpec &spec);

// Never-allowed destinations for the guard rules: loopback, "this host", link-local (cloud
// metadata), multicast and reserved space; private ranges unless allow_lan.
std::vector<std::string> never_ranges_v4(bool allow_lan);
std::vector<std::string> never_ranges_v6(bool allow_lan);

}  // namespace rustyolo::net
