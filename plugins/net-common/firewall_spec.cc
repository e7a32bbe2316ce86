#include "plugins/net-common/firewall_spec.hpp"

#include <algorithm>

namespace rustyolo::net {

bool uses_engine_resolver(const FirewallSpec &spec) {
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

}  // namespace rustyolo::net
