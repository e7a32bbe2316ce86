#include "plugins/net-common/admission.hpp"

#include "plugins/net-common/allow_entry.hpp"

#include <algorithm>
#include <optional>

namespace rustyolo::net {
namespace {

std::optional<std::string> refusal(const AnswerAddress &address, const AdmissionPolicy &policy) {
    auto prefix = parse_address(address.address);
    if (!prefix || prefix->v6 != address.v6)
        return "not an IPv" + std::string(address.v6 ? "6" : "4") + " address";
    if (is_loopback(*prefix))
        return "loopback address (never allowed)";
    if (is_link_local(*prefix))
        return "link-local, metadata, multicast or reserved address (never allowed)";
    if (!policy.allow_lan && is_private(*prefix))
        return "private address (allowed only with --allow-lan)";
    for (std::uint16_t port : address.ports)
        if (!std::binary_search(policy.ports.begin(), policy.ports.end(), port))
            return "port " + std::to_string(port) + " is not opened by any allow entry";
    if (address.ports.empty())
        return "no port";
    return std::nullopt;
}

}  // namespace

Admission admit(const std::vector<AnswerAddress> &addresses, const AdmissionPolicy &policy) {
    Admission admission;
    for (const AnswerAddress &address : addresses) {
        if (auto reason = refusal(address, policy))
            admission.refused.push_back(RefusedAddress{address, *reason});
        else
            admission.accepted.push_back(address);
    }
    return admission;
}

void refuse_unallowed_name(Admission &admission, const std::string &name,
                           const std::function<bool(const std::string &, std::uint16_t)> &allows) {
    std::vector<AnswerAddress> kept;
    for (AnswerAddress &address : admission.accepted) {
        std::vector<std::uint16_t> ports;
        for (std::uint16_t port : address.ports)
            if (allows(name, port))
                ports.push_back(port);
        if (ports.empty()) {
            admission.refused.push_back(RefusedAddress{std::move(address), "the policy in force does not allow " + name});
            continue;
        }
        address.ports = std::move(ports);
        kept.push_back(std::move(address));
    }
    admission.accepted = std::move(kept);
}

std::uint32_t clamp_ttl(std::uint32_t ttl, const AdmissionPolicy &policy) {
    return std::clamp(ttl, policy.ttl_min, std::max(policy.ttl_min, policy.ttl_max));
}

}  // namespace rustyolo::net
