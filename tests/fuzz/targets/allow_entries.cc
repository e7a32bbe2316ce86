// Allow entries and upstream DNS servers as the network plugins' normalize hook gets them
// (plugins/net-common/normalize.cc, normalize_network_request), one entry per input line. The first
// byte's low bit is --allow-lan.
//
// Properties: an entry the parser accepts is in normal form (parsing its value again gives the same
// entry), never opens loopback or link-local space, and private space only with --allow-lan.
#include "plugins/net-common/allow_entry.hpp"
#include "plugins/net-common/normalize.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using namespace rustyolo;

json::array strings(const std::vector<std::string> &items) {
    json::array out;
    for (const auto &item : items)
        out.emplace_back(item);
    return out;
}

// The entry's value with its ports, as a user would write it.
std::string written(const net::AllowEntry &entry, std::uint16_t port) {
    if (entry.kind == "cidr" && entry.value.find(':') != std::string::npos)
        return "[" + entry.value + "]:" + std::to_string(port);
    return entry.value + ":" + std::to_string(port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0)
        return 0;
    const bool allow_lan = data[0] & 1;
    const std::vector<std::string> items = fuzz::lines(fuzz::text(data + 1, size - 1));

    try {
        net::normalize_network_request(json::object{{"entries", strings(items)}, {"allow_lan", allow_lan}});
    } catch (const sdk::InvalidInput &) {
    }
    try {
        json::value result = net::normalize_network_request(json::object{{"dns_servers", strings(items)}});
        for (const auto &server : result.at("dns_servers").as_array())
            fuzz::check(net::validate_dns_server(server.as_string()) == server.as_string(),
                        "a DNS server's normal form is not a fixed point", server.as_string());
    } catch (const sdk::InvalidInput &) {
    }

    for (const std::string &item : items) {
        net::AllowEntry entry;
        try {
            entry = net::parse_allow_entry(item, allow_lan);
        } catch (const sdk::InvalidInput &) {
            continue;
        }
        fuzz::check(!entry.ports.empty(), "an entry without ports", item);
        for (std::size_t i = 1; i < entry.ports.size(); ++i)
            fuzz::check(entry.ports[i - 1] < entry.ports[i], "ports not sorted and unique", item);
        fuzz::check(entry.ports.front() != 0, "port 0", item);
        if (entry.kind == "cidr") {
            const std::string address = entry.value.substr(0, entry.value.find('/'));
            std::optional<net::Prefix> prefix = net::parse_address(address);
            fuzz::check(prefix.has_value(), "a CIDR entry whose address does not parse", item);
            prefix->length = static_cast<unsigned>(std::stoul(entry.value.substr(entry.value.find('/') + 1)));
            fuzz::check(!net::is_loopback(*prefix) && !net::is_link_local(*prefix), "loopback or link-local opened",
                        item);
            if (!allow_lan)
                fuzz::check(!net::is_private(*prefix), "private space opened without --allow-lan", item);
        } else {
            fuzz::check(entry.kind == "name" || entry.kind == "wildcard", "unknown kind", entry.kind);
        }
        // The normal form parses to itself, with each of its ports.
        for (std::uint16_t port : entry.ports) {
            net::AllowEntry again;
            try {
                again = net::parse_allow_entry(written(entry, port), allow_lan);
            } catch (const sdk::InvalidInput &e) {
                fuzz::check(false, "the normal form of an entry is refused", item + " -> " + e.what());
            }
            fuzz::check(again.kind == entry.kind && again.value == entry.value &&
                            again.ports == std::vector<std::uint16_t>{port},
                        "the normal form of an entry parses differently", item + " -> " + written(entry, port));
        }
    }
    return 0;
}
