// The self-test before the agent exists. Every check must pass or the start stops (fail closed).
//
//  ruleset     the live table inet rustyolo, read back as JSON, has exactly the chains (hooks,
//              priority, policy drop), the rules (by comment, in order) and the sets (types, flags,
//              static elements) that were meant; the guard sets contain every never-allowed range
//              (asked of the kernel with `get element`)
//  ipv6        the table is inet (both families) with drop policies, and a UDP send from the agent's
//              uid to [::1]:9 fails locally (EPERM from the firewall, or IPv6 is off altogether)
//  upstreams   a zero-length UDP send from the agent's uid to each upstream resolver (and to
//              127.0.0.11:53) fails with EPERM: the packet was stopped by the firewall on this host
//  loopback    a UDP send from the agent's uid bound to 127.0.0.11 to 127.0.0.1:9 fails with EPERM:
//              on lo the agent sends from 127.0.0.1 only
//  flow class  a flow the supervisor (root) opened to the stub and closed, continued from the same
//              address and port by the agent's uid (probe group): EPERM (the flow-class rules); the
//              same zero-length datagram on a flow of the probe's own is sent
//  stub        the agent's uid can query the stub on 127.0.0.1:53 and a name that is not allowed is
//              REFUSED (mode filter only: in mode any the stub would forward it)
//  resolv.conf points at 127.0.0.1 only
//  filter      the DNS filter process is alive
// Packets: the only ones that could leave are the zero-length datagrams to the configured
// resolvers, and only if the firewall were broken; every other probe targets this host (the flow
// class probe: zero-length datagrams to the stub on 127.0.0.1:53).
#pragma once

#include "plugins/net-nftables/ruleset.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::nft {

struct Check {
    std::string name;
    bool ok = false;
    std::string detail;
};

// Compares `nft -j list table inet rustyolo` output with the ruleset that was meant.
std::vector<Check> compare_ruleset(const Ruleset &expected, const boost::json::value &listed);

struct LiveProbeSpec {
    std::uint32_t agent_uid = 0;
    std::uint32_t probe_gid = 0;  // the group the probes send as (net::self_test_probe_gid)
    std::vector<Resolver> upstreams;
    bool probe_stub = true;   // false in mode any
    // The name the stub probe asks for (refused: not allowed). net-nftables makes one per session
    // (random_self_test_name) and leaves exactly that name's reports out of the audit: a fixed one
    // would let the agent hide its own queries under it.
    std::string stub_probe_name = "rustyolo-self-test.invalid";
};

// "rustyolo-self-test-<16 random hex digits>.invalid", new for each call (getrandom).
std::string random_self_test_name();

// The guard sets as the kernel sees them (`get element` for every range that was meant).
std::vector<Check> guard_set_checks(const Ruleset &expected);

// The probes above that need a process with the agent's uid (forked, setresuid; its group is
// `probe_gid`, so that the packet audit can leave these packets out): upstreams and
// 127.0.0.11 closed, IPv6 closed, flows keep their class, the stub answering and refusing. Firewall-independent: the
// iptables plugin uses them too.
std::vector<Check> agent_probe_checks(const LiveProbeSpec &spec);

// Renders checks as the hook's result: {"checks": [{"name", "ok", "detail"}]}.
boost::json::value checks_to_json(const std::vector<Check> &checks);
// checks_to_json() when every check passed; otherwise throws, naming each failed one (the agent
// is then not started).
boost::json::value require_passed(const std::vector<Check> &checks);

}  // namespace rustyolo::nft
