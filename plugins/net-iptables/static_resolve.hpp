// The seed's static resolution: each exact name is resolved once at start, straight from the
// upstream resolvers the DNS filter will use (ldns; /etc/resolv.conf is not involved, it may be
// read-only and names the filter).
#pragma once

#include "plugins/net-common/firewall_spec.hpp"

#include <string>
#include <vector>

namespace rustyolo::ipt {

struct Resolved {
    std::vector<std::string> v4;  // canonical text, unique
    std::vector<std::string> v6;
    std::string error;            // why the name did not resolve
};

// The A and AAAA answers for `name` from the first upstream that answers. Every upstream must use
// the same port (std::runtime_error otherwise, naming them).
Resolved resolve_name(const std::string &name, const std::vector<net::Resolver> &upstreams);

}  // namespace rustyolo::ipt
