// The firewall's own count of what it dropped: the counters of the blocked chains' rules (see
// ruleset.hpp). The packet audit compares them with the log messages it received, so that the
// audit totals stay exact when the netlink socket overruns.
#pragma once

#include <boost/json.hpp>

#include <cstdint>

namespace rustyolo::nft {

class NftContext;

// The sum of every counter's "packets" in a `nft -j list chain ...` listing (0 when there is none).
std::uint64_t counter_packets(const boost::json::value &listing);

// Packets counted so far by the blocked chains (blocked_output, blocked_guard, blocked_input,
// blocked_flow_class). `nft` must print JSON.
// Throws NftError when a chain cannot be listed.
std::uint64_t read_drop_counters(NftContext &nft);

}  // namespace rustyolo::nft
