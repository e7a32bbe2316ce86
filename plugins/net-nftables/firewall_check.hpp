// The nftables part of the self-test before the agent exists (the agent-uid probes that every
// firewall runs are net-common/agent_probes.hpp). Every check must pass or the start stops.
//
//  ruleset     the live table inet rustyolo, read back as JSON, has exactly the chains (hooks,
//              priority, policy drop), the rules (by comment, in order) and the sets (types, flags,
//              static elements) that were meant; the guard sets contain every never-allowed range
//              (asked of the kernel with `get element`)
//  ipv6        the table is inet (both families) with drop policies
// net-nftables adds: resolv.conf points at 127.0.0.1 only; the DNS filter process is alive.
#pragma once

#include "plugins/net-common/agent_probes.hpp"
#include "plugins/net-nftables/ruleset.hpp"

#include <boost/json.hpp>

#include <vector>

namespace rustyolo::nft {

using net::Check;

// Compares `nft -j list table inet rustyolo` output with the ruleset that was meant.
std::vector<Check> compare_ruleset(const Ruleset &expected, const boost::json::value &listed);

// The guard sets as the kernel sees them (`get element` for every range that was meant).
std::vector<Check> guard_set_checks(const Ruleset &expected);

}  // namespace rustyolo::nft
