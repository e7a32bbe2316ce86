// The seed's static resolution: each exact name is resolved once at start (getaddrinfo, through
// the resolvers resolv.conf names at that moment).
#pragma once

#include <string>
#include <vector>

namespace rustyolo::ipt {

struct Resolved {
    std::vector<std::string> v4;  // canonical text, unique
    std::vector<std::string> v6;
    std::string error;            // gai_strerror when the name did not resolve
};

Resolved resolve_name(const std::string &name);

}  // namespace rustyolo::ipt
