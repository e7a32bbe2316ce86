// net-nftables: the default network policy plugin.
//
// Host side (here): normalise and validate the allow entries and the upstream DNS servers on top
// of net-common. Container side (install / self_test): comes with the nftables firewall; until
// then the SDK's defaults apply (install throws Unsupported, so a start that needs it fails
// closed).
#include "allow_entry.hpp"

#include <rustyolo/sdk/plugin.hpp>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

constexpr std::string_view unfiltered_dns_warning =
    "DNS names are not filtered: any name can be resolved, DNS tunnelling is possible";

std::vector<std::string> string_list(const json::object &request, std::string_view key) {
    std::vector<std::string> values;
    auto it = request.find(key);
    if (it == request.end() || it->value().is_null())
        return values;
    if (!it->value().is_array())
        throw sdk::InvalidInput("network request field '" + std::string(key) + "' must be an array of strings");
    for (const json::value &value : it->value().as_array()) {
        if (!value.is_string())
            throw sdk::InvalidInput("network request field '" + std::string(key) + "' contains " +
                                    json::serialize(value) + ", which is not a string");
        values.emplace_back(value.as_string());
    }
    return values;
}

bool optional_bool(const json::object &request, std::string_view key) {
    auto it = request.find(key);
    if (it == request.end() || it->value().is_null())
        return false;
    if (!it->value().is_bool())
        throw sdk::InvalidInput("network request field '" + std::string(key) + "' must be true or false");
    return it->value().as_bool();
}

class NetNftables final : public sdk::Plugin, public sdk::NetworkHook {
public:
    using sdk::Plugin::Plugin;

    json::value normalize(const json::object &request) override {
        bool allow_lan = optional_bool(request, "allow_lan");
        json::array entries;
        for (const AllowEntry &entry : normalize_allow_entries(string_list(request, "entries"), allow_lan))
            entries.emplace_back(entry.to_json());
        json::array dns_servers;
        json::array warnings;
        for (std::string &server : validate_dns_servers(string_list(request, "dns_servers"))) {
            if (server == "any")
                warnings.emplace_back(unfiltered_dns_warning);
            dns_servers.emplace_back(std::move(server));
        }
        return json::object{{"entries", std::move(entries)},
                            {"dns_servers", std::move(dns_servers)},
                            {"warnings", std::move(warnings)}};
    }
    // install() and self_test(): the container side comes with the nftables firewall.
};

}  // namespace
}  // namespace rustyolo::net

RUSTYOLO_PLUGIN(rustyolo::net::NetNftables, "net-nftables", "1.0.0",
                "Default-deny nftables firewall fed by the DNS filter")
