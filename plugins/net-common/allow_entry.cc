#include "plugins/net-common/allow_entry.hpp"

#include <rustyolo/sdk/text.hpp>

#include <rustyolo/sdk/plugin.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace rustyolo::net {
namespace {

std::string quoted(std::string_view value) { return text::quoted(value, 80, true); }

constexpr std::size_t max_entry_length = 300;
constexpr std::size_t max_name_length = 253;
constexpr std::size_t max_label_length = 63;
const std::vector<std::uint16_t> default_ports = {80, 443};


[[noreturn]] void fail_entry(std::string_view entry, std::string_view why) {
    throw sdk::InvalidInput("allow entry " + quoted(entry) + ": " + std::string(why));
}

[[noreturn]] void fail_dns(std::string_view server, std::string_view why) {
    throw sdk::InvalidInput("DNS server " + quoted(server) + ": " + std::string(why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// ---- address ranges -----------------------------------------------------------------------------

struct Range {
    Prefix prefix;
    std::string_view text;
};

Prefix parse_range(std::string_view text) {
    std::size_t slash = text.find('/');
    auto prefix = parse_address(text.substr(0, slash));
    prefix->length = static_cast<unsigned>(std::stoul(std::string(text.substr(slash + 1))));
    return *prefix;
}

std::vector<Range> make_ranges(std::initializer_list<std::string_view> texts) {
    std::vector<Range> ranges;
    for (std::string_view text : texts)
        ranges.push_back(Range{parse_range(text), text});
    return ranges;
}

const std::vector<Range> &loopback_ranges() {
    static const auto ranges = make_ranges({"127.0.0.0/8", "0.0.0.0/8", "::1/128", "::/128"});
    return ranges;
}
const std::vector<Range> &link_local_ranges() {
    static const auto ranges =
        make_ranges({"169.254.0.0/16", "fe80::/10", "224.0.0.0/4", "240.0.0.0/4", "ff00::/8"});
    return ranges;
}
// Multicast, broadcast and reserved space (part of the link-local class above).
const std::vector<Range> &multicast_reserved_ranges() {
    static const auto ranges = make_ranges({"224.0.0.0/4", "240.0.0.0/4", "ff00::/8"});
    return ranges;
}
// "This host" addresses (part of the loopback class above).
const std::vector<Range> &unspecified_ranges() {
    static const auto ranges = make_ranges({"0.0.0.0/8", "::/128"});
    return ranges;
}
const std::vector<Range> &private_ranges() {
    static const auto ranges = make_ranges(
        {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10"});
    return ranges;
}
// IPv6 prefixes that carry an IPv4 address in their last 32 bits.
const std::vector<Range> &ipv4_embedding_ranges() {
    static const auto ranges = make_ranges({"::ffff:0:0/96", "64:ff9b::/96", "::/96"});
    return ranges;
}

bool overlaps(const Prefix &a, const Prefix &b) {
    if (a.v6 != b.v6)
        return false;
    unsigned bits = std::min(a.length, b.length);
    for (unsigned i = 0; i < bits; ++i) {
        unsigned mask = 0x80u >> (i % 8);
        if ((a.bytes[i / 8] & mask) != (b.bytes[i / 8] & mask))
            return false;
    }
    return true;
}

// The first range of `ranges` that `prefix` overlaps, also through an embedded IPv4 address.
std::optional<std::string_view> overlapping(const Prefix &prefix, const std::vector<Range> &ranges) {
    for (const Range &range : ranges)
        if (overlaps(prefix, range.prefix))
            return range.text;
    if (!prefix.v6)
        return std::nullopt;
    for (const Range &embedding : ipv4_embedding_ranges()) {
        if (!overlaps(prefix, embedding.prefix))
            continue;
        Prefix v4;
        v4.length = prefix.length <= 96 ? 0 : prefix.length - 96;
        std::copy(prefix.bytes.begin() + 12, prefix.bytes.end(), v4.bytes.begin());
        for (const Range &range : ranges)
            if (overlaps(v4, range.prefix))
                return range.text;
    }
    return std::nullopt;
}

Prefix require_address(std::string_view address) {
    auto prefix = parse_address(address);
    if (!prefix)
        throw sdk::InvalidInput(quoted(address) + " is not an IPv4 or IPv6 address");
    return *prefix;
}

// ---- entry parsing ------------------------------------------------------------------------------

std::uint16_t parse_port(std::string_view entry, std::string_view text) {
    if (text.empty())
        fail_entry(entry, "the port after ':' is empty; write a port from 1 to 65535, e.g. example.com:8443");
    if (text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit))
        fail_entry(entry, "the port " + quoted(text) +
                              " is not a number from 1 to 65535 (one port per entry, TCP only)");
    unsigned long port = std::stoul(std::string(text));
    if (port < 1 || port > 65535)
        fail_entry(entry, "the port " + std::string(text) + " is outside 1 to 65535");
    return static_cast<std::uint16_t>(port);
}

// Checks the address class of a CIDR entry and returns it normalised.
AllowEntry cidr_entry(std::string_view entry, Prefix prefix, std::vector<std::uint16_t> ports, bool allow_lan) {
    // ::ffff:a.b.c.d is IPv4 on the wire: keep it as such so the firewall matches it.
    if (prefix.v6 && prefix.length >= 96 && overlaps(prefix, ipv4_embedding_ranges().front().prefix)) {
        Prefix v4;
        v4.length = prefix.length - 96;
        std::copy(prefix.bytes.begin() + 12, prefix.bytes.end(), v4.bytes.begin());
        prefix = v4;
    }
    std::string value = prefix.to_string();
    if (auto range = overlapping(prefix, loopback_ranges()))
        fail_entry(entry, value + " is or overlaps the loopback range " + std::string(*range) +
                              "; loopback addresses are never allowed (they reach the sandbox itself)");
    if (auto range = overlapping(prefix, link_local_ranges()))
        fail_entry(entry, value + " is or overlaps the link-local, multicast or reserved range " +
                              std::string(*range) +
                              "; these are never allowed (169.254.169.254 is the cloud metadata service)");
    if (!allow_lan)
        if (auto range = overlapping(prefix, private_ranges()))
            fail_entry(entry, value + " is or overlaps the private range " + std::string(*range) +
                                  "; pass --allow-lan (or allow_lan = true) to allow local networks");
    return AllowEntry{"cidr", value, std::move(ports), "tcp"};
}

// "addr" or "addr/len" (either family) -> prefix; fails with a reason naming the entry.
Prefix parse_cidr(std::string_view entry, std::string_view text) {
    std::size_t slash = text.find('/');
    auto prefix = parse_address(text.substr(0, slash));
    if (!prefix)
        fail_entry(entry, quoted(text.substr(0, slash)) + " is not a valid IPv4 or IPv6 address");
    if (slash == std::string_view::npos)
        return *prefix;
    std::string_view length = text.substr(slash + 1);
    unsigned max = prefix->v6 ? 128 : 32;
    if (length.empty() || length.size() > 3 || !std::all_of(length.begin(), length.end(), is_digit) ||
        std::stoul(std::string(length)) > max)
        fail_entry(entry, "the prefix length " + quoted(length) + " must be a number from 0 to " +
                              std::to_string(max));
    Prefix network = *prefix;
    network.length = static_cast<unsigned>(std::stoul(std::string(length)));
    for (unsigned bit = network.length; bit < max; ++bit)
        network.bytes[bit / 8] = static_cast<std::uint8_t>(network.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    if (network.bytes != prefix->bytes)
        fail_entry(entry, "host bits are set after the /" + std::string(length) + "; did you mean " +
                              network.to_string() + "?");
    return network;
}

// Validates a host name (already lowercased, without trailing dot); `entry` is for messages.
void check_name(std::string_view entry, std::string_view name) {
    if (name.empty())
        fail_entry(entry, "the name is empty");
    if (name.size() > max_name_length)
        fail_entry(entry, "the name is longer than 253 characters");
    std::size_t labels = 0;
    std::size_t start = 0;
    std::string_view last;
    while (start <= name.size()) {
        std::size_t end = name.find('.', start);
        if (end == std::string_view::npos)
            end = name.size();
        std::string_view label = name.substr(start, end - start);
        if (label.empty())
            fail_entry(entry, "the name has an empty label (\"..\" or a leading dot)");
        if (label.size() > max_label_length)
            fail_entry(entry, "the label " + quoted(label) + " is longer than 63 characters");
        for (char c : label)
            if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '-'))
                fail_entry(entry, "the label " + quoted(label) + " may only contain letters, digits and '-'");
        if (label.front() == '-' || label.back() == '-')
            fail_entry(entry, "the label " + quoted(label) + " must not start or end with '-'");
        ++labels;
        last = label;
        start = end + 1;
    }
    if (labels < 2)
        fail_entry(entry, "single-label names such as \"localhost\" or an intranet host are not allowed: they "
                          "resolve through local search domains, not to one public host; write the fully "
                          "qualified name, e.g. api.example.com");
    if (std::all_of(last.begin(), last.end(), is_digit))
        fail_entry(entry, "this is neither a valid IPv4 address nor a host name (a top-level label cannot be "
                          "all digits)");
}

// Characters that are never part of an entry, each with its own explanation.
void check_characters(std::string_view entry) {
    static constexpr std::string_view shell = ";|&$`'\"<>(){}!\\,#~^=?";
    for (char c : entry) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f)
            fail_entry(entry, "it contains whitespace or a control character");
        if (byte >= 0x80)
            fail_entry(entry, "it contains non-ASCII characters; write internationalised names in punycode "
                              "(xn--...), e.g. with `idn2`");
        if (shell.find(c) != std::string_view::npos)
            fail_entry(entry, std::string("it contains the shell metacharacter '") + c + "'");
        if (c == '_')
            fail_entry(entry, "'_' is not allowed in host names");
        if (c == '@')
            fail_entry(entry, "'@' is not allowed: write only the host name, without a user");
        bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
                  c == '*' || c == ':' || c == '/' || c == '[' || c == ']';
        if (!ok)
            fail_entry(entry, std::string("the character '") + c + "' is not allowed");
    }
}

// "https://x.com:8443/path" -> "x.com:8443", for the suggestion in the URL error.
std::string url_host(std::string_view entry) {
    std::string_view rest = entry.substr(entry.find("://") + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (std::size_t at = rest.rfind('@'); at != std::string_view::npos)
        rest = rest.substr(at + 1);
    std::string host = lowercase(rest);
    if (host.size() > 4 && host.substr(host.size() - 4) == ":443")
        host.resize(host.size() - 4);
    return host;
}

AllowEntry parse_bracketed(std::string_view entry, bool allow_lan) {
    std::size_t close = entry.find(']');
    if (close == std::string_view::npos)
        fail_entry(entry, "'[' without a matching ']'; write an IPv6 address as [2001:db8::1]:443");
    std::string_view inside = entry.substr(1, close - 1);
    std::string_view after = entry.substr(close + 1);
    std::vector<std::uint16_t> ports = default_ports;
    if (!after.empty()) {
        if (after.front() != ':')
            fail_entry(entry, "only \":port\" may follow \"]\", e.g. [2001:db8::1]:443");
        ports = {parse_port(entry, after.substr(1))};
    }
    Prefix prefix = parse_cidr(entry, inside);
    if (!prefix.v6)
        fail_entry(entry, "brackets are only for IPv6 addresses; write an IPv4 address as 1.2.3.4:443");
    return cidr_entry(entry, prefix, std::move(ports), allow_lan);
}

AllowEntry parse_host_and_port(std::string_view entry, bool allow_lan) {
    std::size_t colon = entry.find(':');
    std::string_view host = entry.substr(0, colon);
    std::vector<std::uint16_t> ports = default_ports;
    if (colon != std::string_view::npos)
        ports = {parse_port(entry, entry.substr(colon + 1))};
    if (host.empty())
        fail_entry(entry, "the host before ':' is empty");

    bool numeric = std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.' || c == '/'; });
    if (host.find('/') != std::string_view::npos && !numeric)
        fail_entry(entry, "'/' is only allowed in a CIDR such as 10.0.0.0/8; for a URL write just the host "
                          "name, e.g. " + lowercase(host.substr(0, host.find('/'))));
    if (numeric) {
        if (host.find('/') == std::string_view::npos && !parse_address(host))
            fail_entry(entry, quoted(host) + " is not a valid IPv4 address (four numbers from 0 to 255, "
                                             "without leading zeros)");
        return cidr_entry(entry, parse_cidr(entry, host), std::move(ports), allow_lan);
    }

    std::string name = lowercase(host);
    if (name.back() == '.')
        name.pop_back();
    if (name.find('*') == std::string::npos) {
        check_name(entry, name);
        return AllowEntry{"name", name, std::move(ports), "tcp"};
    }
    if (name.size() < 2 || name.compare(0, 2, "*.") != 0 || name.find('*', 1) != std::string::npos)
        fail_entry(entry, "'*' is only allowed as the whole first label, as in *.example.com");
    std::string suffix = name.substr(2);
    if (suffix.find('.') == std::string::npos)
        fail_entry(entry, "a wildcard needs at least two labels after \"*.\" (e.g. *.example.com); " +
                              quoted(name) + " would allow a whole top-level domain");
    check_name(entry, suffix);
    return AllowEntry{"wildcard", "*." + suffix, std::move(ports), "tcp"};
}

// "[v6]:port", "[v6]", bare v6, "v4:port" or "v4" -> address and port (0: none given).
std::pair<Prefix, unsigned> parse_server(std::string_view server) {
    std::string_view address = server;
    std::string_view port;
    if (!server.empty() && server.front() == '[') {
        std::size_t close = server.find(']');
        if (close == std::string_view::npos)
            fail_dns(server, "'[' without a matching ']'; write [2606:4700::1111]:53");
        address = server.substr(1, close - 1);
        std::string_view after = server.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                fail_dns(server, "only \":port\" may follow \"]\"");
            port = after.substr(1);
            if (port.empty())
                fail_dns(server, "the port after ':' is empty");
        }
    } else if (std::count(server.begin(), server.end(), ':') == 1) {
        std::size_t colon = server.find(':');
        address = server.substr(0, colon);
        port = server.substr(colon + 1);
        if (port.empty())
            fail_dns(server, "the port after ':' is empty");
    }
    auto prefix = parse_address(address);
    if (!prefix)
        fail_dns(server, "a DNS server must be an IPv4 or IPv6 address (optionally with :port, IPv6 as "
                         "[addr]:port) or \"any\"");
    if (server.front() == '[' && !prefix->v6)
        fail_dns(server, "brackets are only for IPv6 addresses; write 1.1.1.1:53");
    unsigned number = 0;
    if (!port.empty()) {
        if (port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit) ||
            (number = static_cast<unsigned>(std::stoul(std::string(port)))) < 1 || number > 65535)
            fail_dns(server, "the port " + quoted(port) + " is not a number from 1 to 65535");
    }
    return {*prefix, number};
}

}  // namespace

std::string Prefix::to_string(bool with_length) const {
    char buffer[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
    std::string text = buffer;
    if (with_length)
        text += "/" + std::to_string(length);
    return text;
}

std::optional<Prefix> parse_address(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
        return std::nullopt;
    std::string copy(text);
    Prefix prefix;
    if (copy.find(':') == std::string::npos) {
        if (::inet_pton(AF_INET, copy.c_str(), prefix.bytes.data()) != 1)
            return std::nullopt;
        prefix.length = 32;
        return prefix;
    }
    if (::inet_pton(AF_INET6, copy.c_str(), prefix.bytes.data()) != 1)
        return std::nullopt;
    prefix.v6 = true;
    prefix.length = 128;
    return prefix;
}

bool is_loopback(const Prefix &prefix) { return overlapping(prefix, loopback_ranges()).has_value(); }
bool is_link_local(const Prefix &prefix) { return overlapping(prefix, link_local_ranges()).has_value(); }
bool is_private(const Prefix &prefix) { return overlapping(prefix, private_ranges()).has_value(); }
bool is_loopback(std::string_view address) { return is_loopback(require_address(address)); }
bool is_link_local(std::string_view address) { return is_link_local(require_address(address)); }
bool is_private(std::string_view address) { return is_private(require_address(address)); }

boost::json::object AllowEntry::to_json() const {
    boost::json::array port_list;
    for (std::uint16_t port : ports)
        port_list.emplace_back(port);
    return boost::json::object{{"kind", kind}, {"value", value}, {"ports", std::move(port_list)},
                               {"protocol", protocol}};
}

AllowEntry parse_allow_entry(std::string_view entry, bool allow_lan) {
    if (entry.empty())
        fail_entry(entry, "the entry is empty; write a host name such as example.com");
    if (entry.size() > max_entry_length)
        fail_entry(entry, "the entry is longer than " + std::to_string(max_entry_length) + " characters");
    if (entry.find("://") != std::string_view::npos)
        fail_entry(entry, "this is a URL; write just the host name: " + url_host(entry));
    check_characters(entry);
    if (entry.front() == '-')
        fail_entry(entry, "an entry must not start with '-'");
    if (entry == "*" || entry == "*.")
        fail_entry(entry, "a lone '*' would allow every name; list the names the agent needs, or a "
                          "wildcard such as *.example.com");
    if (entry.front() == '[')
        return parse_bracketed(entry, allow_lan);
    if (std::count(entry.begin(), entry.end(), ':') >= 2) {
        // A bare IPv6 address or network; a port needs brackets.
        Prefix prefix = parse_cidr(entry, entry);
        return cidr_entry(entry, prefix, default_ports, allow_lan);
    }
    return parse_host_and_port(entry, allow_lan);
}

std::vector<AllowEntry> normalize_allow_entries(const std::vector<std::string> &entries, bool allow_lan) {
    std::vector<AllowEntry> result;
    for (const std::string &text : entries) {
        AllowEntry entry = parse_allow_entry(text, allow_lan);
        auto same = std::find_if(result.begin(), result.end(), [&](const AllowEntry &other) {
            return other.kind == entry.kind && other.value == entry.value && other.protocol == entry.protocol;
        });
        if (same == result.end()) {
            result.push_back(std::move(entry));
            continue;
        }
        same->ports.insert(same->ports.end(), entry.ports.begin(), entry.ports.end());
        std::sort(same->ports.begin(), same->ports.end());
        same->ports.erase(std::unique(same->ports.begin(), same->ports.end()), same->ports.end());
    }
    return result;
}

std::string validate_dns_server(std::string_view server) {
    if (server.empty())
        fail_dns(server, "the value is empty; write an address such as 1.1.1.1, or \"any\"");
    if (server.size() > 64)
        fail_dns(server, "the value is too long");
    if (lowercase(server) == "any")
        return "any";
    const auto [parsed, port] = parse_server(server);
    const Prefix &prefix = parsed;  // a variable, not a binding: lambdas below capture it
    // Link-local and private resolvers are legitimate upstreams; on loopback only Docker's
    // 127.0.0.11:53 is: any other loopback address is inside the sandbox, where nothing but the
    // agent could be listening.
    if (is_loopback(prefix) && !(!prefix.v6 && prefix.to_string(false) == "127.0.0.11" && (port == 0 || port == 53)))
        fail_dns(server, "a loopback address other than the engine's resolver 127.0.0.11:53 is inside the "
                         "sandbox, where only the agent could answer; give a resolver outside the container, "
                         "or leave --dns-servers out to use the engine's");
    auto in = [&prefix](const std::vector<Range> &ranges) {
        return std::any_of(ranges.begin(), ranges.end(), [&prefix](const Range &r) { return overlaps(prefix, r.prefix); });
    };
    if (in(multicast_reserved_ranges()))
        fail_dns(server, "a multicast, broadcast or reserved address cannot be a DNS server");
    if (in(unspecified_ranges()))
        fail_dns(server, "an unspecified (\"this host\") address cannot be a DNS server");
    std::string address = prefix.to_string(false);
    if (port == 0)
        return address;
    return prefix.v6 ? "[" + address + "]:" + std::to_string(port) : address + ":" + std::to_string(port);
}

std::vector<std::string> validate_dns_servers(const std::vector<std::string> &servers) {
    std::vector<std::string> result;
    for (const std::string &server : servers) {
        std::string normal = validate_dns_server(server);
        if (std::find(result.begin(), result.end(), normal) == result.end())
            result.push_back(std::move(normal));
    }
    if (result.size() > 1 && std::find(result.begin(), result.end(), "any") != result.end())
        throw sdk::InvalidInput("DNS servers: \"any\" (do not filter names) cannot be combined with resolver "
                                "addresses; give either \"any\" alone or the addresses");
    return result;
}

}  // namespace rustyolo::net
