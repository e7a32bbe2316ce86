#include "plugins/net-common/normalize.hpp"

#include "plugins/net-common/allow_entry.hpp"

#include <rustyolo/sdk/plugin.hpp>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

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

}  // namespace

json::value normalize_network_request(const json::object &request) {
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

}  // namespace rustyolo::net
