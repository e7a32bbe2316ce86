// The host side shared by the network plugins (net-nftables, net-iptables): normalise and validate
// the allow entries and the upstream DNS servers (net-common), and warn about "any".
#pragma once

#include <boost/json.hpp>

#include <string_view>

namespace rustyolo::net {

inline constexpr std::string_view unfiltered_dns_warning =
    "DNS names are not filtered: any name can be resolved, DNS tunnelling is possible";

// request: {"entries": [strings], "allow_lan": bool, "dns_servers": [strings]}
// result:  {"entries": [entry objects], "dns_servers": [...], "warnings": [...]}
// Throws sdk::InvalidInput naming the bad value.
boost::json::value normalize_network_request(const boost::json::object &request);

}  // namespace rustyolo::net
