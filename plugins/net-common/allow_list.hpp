// Which names the DNS filter forwards, and the TCP ports their addresses are opened for. Both ends
// of the feed match with it: the filter to answer a name, the supervisor to know which addresses
// in the sets a live change (`rustyolo deny`) leaves allowed.
//
//   exact "api.example.com"      matches api.example.com only
//   wildcard "*.example.com"     matches x.example.com and y.x.example.com, never example.com itself
//                                nor xexample.com
// Matching is case-insensitive; one trailing dot is ignored. A name matching several entries gets
// the union of their ports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rustyolo::net {

// Lowercases ASCII and drops one trailing dot ("API.Example.COM." -> "api.example.com").
std::string normalize_name(std::string_view name);

class AllowList {
public:
    // `name` is "host.example.com" or "*.example.com". Throws std::invalid_argument for an empty
    // name, a bare "*", or a '*' anywhere but as the whole first label.
    void add(std::string_view name, const std::vector<std::uint16_t> &ports);

    // The ports for `name` (normalised by the caller or not), or nullopt when no entry matches.
    std::optional<std::vector<std::uint16_t>> match(std::string_view name) const;

    bool empty() const { return exact_.empty() && wildcard_.empty(); }

    // Every entry of `other` added to this one (ports unioned).
    void add_all(const AllowList &other);

private:
    // name -> ports; wildcard entries are keyed by their suffix ("example.com").
    std::unordered_map<std::string, std::vector<std::uint16_t>> exact_;
    std::unordered_map<std::string, std::vector<std::uint16_t>> wildcard_;
};

// Sorted union of two port lists.
std::vector<std::uint16_t> merge_ports(const std::vector<std::uint16_t> &a, const std::vector<std::uint16_t> &b);

}  // namespace rustyolo::net
