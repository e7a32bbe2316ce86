// From the Plan's network section to what the container part installs: the ruleset's inputs, the
// DNS filter's argv, and the admission policy for resolved addresses. Pure: the caller reads
// resolv.conf. Both firewalls start from it.
#pragma once

#include "plugins/net-common/admission.hpp"
#include "plugins/net-common/firewall_spec.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <string>
#include <vector>

namespace rustyolo::net {

struct NetworkSetup {
    std::string mode;                       // "filter" or "any"
    FirewallSpec spec;                      // upstreams, static ranges, agent uid, allow_lan
    std::vector<std::string> filter_args;   // after argv[0] (fds 3..6, see filter_process.hpp)
    AdmissionPolicy policy;                 // which resolved addresses may be opened
    std::size_t names = 0;
    std::size_t wildcards = 0;
    std::size_t cidrs = 0;
};

// `engine_nameservers`: the nameserver lines of resolv.conf at start, used when the Plan names no
// resolvers. Throws std::runtime_error naming what is wrong: no resolver at all, the stub's own
// address as a resolver, a CIDR entry the policy forbids (the host refuses those; a Plan that
// carries one was not made by it), an unknown kind or protocol.
NetworkSetup make_network_setup(const Plan &plan, const std::vector<std::string> &engine_nameservers);

// Checks one allow entry of a Plan (or of a live change) as the firewalls take it: tcp, ports 1-65535,
// kind name, wildcard or cidr. Throws std::runtime_error naming the entry.
void check_entry(const PlanEgress &entry);

// A CIDR entry as the firewall's static range. Throws std::runtime_error for a CIDR the policy
// forbids (loopback, link-local; private ranges unless `allow_lan`).
StaticRange static_range(const PlanEgress &entry, bool allow_lan);

// "1.1.1.1", "1.1.1.1:5353", "2606:4700::1111", "[2606:4700::1111]:53" -> Resolver.
Resolver parse_resolver(const std::string &text);

}  // namespace rustyolo::net
