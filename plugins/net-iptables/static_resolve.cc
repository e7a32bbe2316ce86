#include "plugins/net-iptables/static_resolve.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace rustyolo::ipt {

Resolved resolve_name(const std::string &name) {
    Resolved resolved;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *list = nullptr;
    int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
    if (rc != 0) {
        resolved.error = ::gai_strerror(rc);
        return resolved;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, ::freeaddrinfo);
    for (const addrinfo *ai = list; ai; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        if (ai->ai_family == AF_INET) {
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(ai->ai_addr)->sin_addr, text, sizeof text);
            if (std::find(resolved.v4.begin(), resolved.v4.end(), text) == resolved.v4.end())
                resolved.v4.emplace_back(text);
        } else if (ai->ai_family == AF_INET6) {
            ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(ai->ai_addr)->sin6_addr, text, sizeof text);
            if (std::find(resolved.v6.begin(), resolved.v6.end(), text) == resolved.v6.end())
                resolved.v6.emplace_back(text);
        }
    }
    return resolved;
}

}  // namespace rustyolo::ipt
