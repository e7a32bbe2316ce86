// Allow entries of the network policy, shared by every network plugin: parsing, normalisation,
// upstream DNS server validation, and address classification for the firewall.
//
// Entry forms (design §5):
//   example.com            TCP 80 and 443 to that exact name
//   example.com:8443       that port only
//   *.example.com[:port]   any name below example.com, not example.com itself
//   10.0.0.0/8, 1.2.3.4:22, 2001:db8::/32, [2001:db8::1]:443, [2001:db8::/32]:443
//                          addresses and networks (ports as for names: 80 and 443 unless given)
// Names are lowercased, one trailing dot is dropped, IDNs must be written in punycode.
// Every error throws sdk::InvalidInput naming the value and the reason.
#pragma once

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::net {

// One IPv4 or IPv6 network prefix (an address is a /32 or /128).
struct Prefix {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
    unsigned length = 0;                   // prefix length in bits
    // "10.0.0.0/8", "2001:db8::/32"; with `with_length` false just the address.
    std::string to_string(bool with_length = true) const;
};

// Parses a plain IPv4 or IPv6 address (no brackets, port, prefix or zone). nullopt if it is not one.
std::optional<Prefix> parse_address(std::string_view text);

// Address classification, by the address's meaning for a connection from the sandbox.
// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) IPv6
// addresses are classified by their IPv4 address.
//   loopback:   127.0.0.0/8, 0.0.0.0/8 (on Linux 0.0.0.0 reaches this host), ::1, ::
//   link-local: 169.254.0.0/16 (cloud metadata), fe80::/10, and multicast and reserved space
//               (224.0.0.0/4, 240.0.0.0/4 incl. broadcast, ff00::/8), which never leave the network
//   private:    10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 (carrier NAT), fc00::/7,
//               fec0::/10 (old site-local)
// A prefix is in a class when it overlaps one of its ranges. The string forms throw
// sdk::InvalidInput when the text is not an address.
bool is_loopback(const Prefix &prefix);
bool is_link_local(const Prefix &prefix);
bool is_private(const Prefix &prefix);
bool is_loopback(std::string_view address);
bool is_link_local(std::string_view address);
bool is_private(std::string_view address);

struct AllowEntry {
    std::string kind;                  // "name", "wildcard" or "cidr"
    std::string value;                 // "example.com", "*.example.com", "10.0.0.0/8"
    std::vector<std::uint16_t> ports;  // sorted, unique, never empty
    std::string protocol = "tcp";

    // {"kind", "value", "ports": [...], "protocol"}
    boost::json::object to_json() const;
};

// Parses and normalises one entry. A CIDR or address that overlaps a loopback or link-local range
// is always refused; one that overlaps a private range is refused unless `allow_lan`.
AllowEntry parse_allow_entry(std::string_view text, bool allow_lan);

// Parses every entry and merges duplicates (same kind, value and protocol: ports unioned), keeping
// the order of first appearance.
std::vector<AllowEntry> normalize_allow_entries(const std::vector<std::string> &entries, bool allow_lan);

// Validates one upstream DNS server: an IPv4 or IPv6 address, optionally with a port
// ("1.1.1.1:5353", "[2606:4700::1111]:53"), or the word "any". Returns the normal form.
std::string validate_dns_server(std::string_view text);

// Validates a list: every element as above, duplicates dropped, "any" only on its own.
std::vector<std::string> validate_dns_servers(const std::vector<std::string> &servers);

}  // namespace rustyolo::net
