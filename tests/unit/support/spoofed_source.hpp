// A real-kernel check shared by the firewalls' unit tests: does a refusal (TCP reset, ICMP error)
// go to a source address that is not this host's? Needs root (a scratch network namespace).
#pragma once

#include "tests/unit/support/scratch_netns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <functional>
#include <string>

namespace rustyolo::test_support {

// How many ICMPv6 errors to fd97::99 left through the output hook after uid 1000 sent a datagram
// from that address (IPV6_FREEBIND: no privilege needed; not this host's) to a blocked one
// (fd97::250 port 9999) on a veth link, with the firewall that `install` loads ("" or what went
// wrong); -1 with `problem` set. An nft table at a later priority (10) counts what the firewall's
// output chain accepted.
inline int refusals_to_a_spoofed_source(const std::function<std::string()> &install, std::string &problem) {
    const std::string report = in_scratch_netns([&]() -> std::string {
        if (!loopback_up() || run_program({"ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"}) != 0 ||
            run_program({"ip", "addr", "add", "fd97::1/64", "dev", "d0", "nodad"}) != 0 ||
            run_program({"ip", "link", "set", "d1", "up"}) != 0 || run_program({"ip", "link", "set", "d0", "up"}) != 0)
            return "the veth link did not come up";
        if (std::string installed = install(); !installed.empty())
            return installed;
        if (run_program({"nft", "add table inet observer"}) != 0 ||
            run_program({"nft", "add chain inet observer out { type filter hook output priority 10; policy accept; }"}) != 0 ||
            run_program({"nft", "add rule inet observer out ip6 daddr fd97::99 icmpv6 type destination-unreachable counter"}) != 0)
            return "no observer table";
        int sent = as_user(1000, 1000, [] {
            int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            int on = 1;
            sockaddr_in6 from{}, to{};
            from.sin6_family = to.sin6_family = AF_INET6;
            ::inet_pton(AF_INET6, "fd97::99", &from.sin6_addr);
            ::inet_pton(AF_INET6, "fd97::250", &to.sin6_addr);
            to.sin6_port = htons(9999);
            if (fd < 0 || ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on) != 0 ||
                ::bind(fd, reinterpret_cast<sockaddr *>(&from), sizeof from) != 0)
                return -errno;
            int result = ::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr *>(&to), sizeof to) < 0 ? errno : 0;
            ::close(fd);
            return result;
        });
        if (sent != EPERM)
            return "the spoofed datagram was not blocked: " + std::to_string(sent);
        ::usleep(100 * 1000);
        std::string listing = program_output({"nft", "list", "table", "inet", "observer"});
        std::size_t at = listing.find("counter packets ");
        if (at == std::string::npos)
            return "no observer counter: " + listing;
        return "count " + listing.substr(at + 16, listing.find(' ', at + 16) - at - 16);
    });
    if (report.rfind("count ", 0) != 0) {
        problem = report;
        return -1;
    }
    problem.clear();
    return std::stoi(report.substr(6));
}

}  // namespace rustyolo::test_support
