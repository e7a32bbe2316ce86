// Which resolved addresses a firewall may open, whatever the mechanism: net-nftables admits the
// DNS filter's answers before they enter its sets, net-iptables the addresses it resolved at start.
// The source of an address is never trusted: every address is classified again here.
#pragma once

#include "plugins/net-common/feed_protocol.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rustyolo::net {

using feed::AnswerAddress;

struct AdmissionPolicy {
    bool allow_lan = false;
    std::vector<std::uint16_t> ports;  // sorted: every port a name entry opens (mode any: +80, 443)
    std::uint32_t ttl_min = 30;        // set timeouts are clamped to [ttl_min, ttl_max]
    std::uint32_t ttl_max = 3600;
};

struct RefusedAddress {
    AnswerAddress address;
    std::string reason;
};

struct Admission {
    std::vector<AnswerAddress> accepted;
    std::vector<RefusedAddress> refused;
};

// Loopback, link-local/metadata, multicast/reserved and (unless allow_lan) private addresses are
// refused whatever name led there, and so is an address with a port no entry opens.
Admission admit(const std::vector<AnswerAddress> &addresses, const AdmissionPolicy &policy);

// Keeps of each accepted address the ports `allows(name, port)` lets `name` reach, where `name` is
// the name whose answer the addresses came in; an address left with none is refused. The firewall
// judges a batch's name itself, not only the DNS filter that fed it.
void refuse_unallowed_name(Admission &admission, const std::string &name,
                           const std::function<bool(const std::string &, std::uint16_t)> &allows);

// `ttl` clamped to [ttl_min, ttl_max].
std::uint32_t clamp_ttl(std::uint32_t ttl, const AdmissionPolicy &policy);

}  // namespace rustyolo::net
