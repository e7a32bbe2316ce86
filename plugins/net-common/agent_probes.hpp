// The part of the network self-test that does not depend on the firewall's mechanism: probes sent
// from a process with the agent's uid, before the agent exists. net-nftables and net-iptables run
// them after checking their own rules; every check must pass or the start stops (fail closed).
//
//  upstreams   a zero-length UDP send from the agent's uid to each upstream resolver (and to
//              127.0.0.11:53) fails with EPERM: the packet was stopped by the firewall on this host
//  loopback    a UDP send from the agent's uid bound to 127.0.0.11 to 127.0.0.1:9 fails with EPERM:
//              on lo the agent sends from 127.0.0.1 only
//  flow class  a flow the supervisor (root) opened to the stub and closed, continued from the same
//              address and port by the agent's uid (probe group): EPERM (the flow-class rules); the
//              same zero-length datagram on a flow of the probe's own is sent
//  ipv6        a UDP send from the agent's uid to [::1]:9 fails locally (EPERM from the firewall,
//              or IPv6 is off altogether)
//  stub        the agent's uid can query the stub on 127.0.0.1:53 and a name that is not allowed is
//              NXDOMAIN from the filter itself (mode filter only: in mode any the stub would forward it)
// Packets: the only ones that could leave are the zero-length datagrams to the configured
// resolvers, and only if the firewall were broken; every other probe targets this host (the flow
// class probe: zero-length datagrams to the stub on 127.0.0.1:53).
#pragma once

#include "plugins/net-common/firewall_spec.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::net {

// One check of the self-test.
struct Check {
    std::string name;
    bool ok = false;
    std::string detail;
};

struct LiveProbeSpec {
    std::uint32_t agent_uid = 0;
    std::uint32_t probe_gid = 0;  // the group the probes send as (self_test_probe_gid)
    std::vector<Resolver> upstreams;
    bool probe_stub = true;   // false in mode any
    // The name the stub probe asks for (refused: not allowed). net-nftables makes one per session
    // (random_self_test_name) and leaves exactly that name's reports out of the audit: a fixed one
    // would let the agent hide its own queries under it.
    std::string stub_probe_name = "rustyolo-self-test.invalid";
};

// "rustyolo-self-test-<16 random hex digits>.invalid", new for each call (getrandom).
std::string random_self_test_name();

// The probes above, from a forked process with the agent's uid (setresuid; its group is
// `probe_gid`, so that the packet audit can leave these packets out).
std::vector<Check> agent_probe_checks(const LiveProbeSpec &spec);

// Renders checks as the hook's result: {"checks": [{"name", "ok", "detail"}]}.
boost::json::value checks_to_json(const std::vector<Check> &checks);
// checks_to_json() when every check passed; otherwise throws, naming each failed one (the agent
// is then not started).
boost::json::value require_passed(const std::vector<Check> &checks);

}  // namespace rustyolo::net
