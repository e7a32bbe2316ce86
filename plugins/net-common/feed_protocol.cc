#include "plugins/net-common/feed_protocol.hpp"

#include <arpa/inet.h>

#include <array>

namespace rustyolo::net::feed {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Shown in errors: the line with anything unprintable escaped, cut to a readable length.
std::string shown(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size() && i < 120; ++i) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte >= 0x7f || text[i] == '"' || text[i] == '\\') {
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += text[i];
        }
    }
    if (text.size() > 120)
        out += "...";
    return out + "\"";
}

[[noreturn]] void fail(std::string_view line, std::string_view why) {
    throw FeedError("DNS filter sent a malformed line " + shown(line) + ": " + std::string(why));
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos)
            return parts;
        start = end + 1;
    }
}

// Decimal without sign or leading zeros, at most `max`.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max) {
    if (text.empty() || text.size() > 10 || (text.size() > 1 && text.front() == '0'))
        return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (!is_digit(c))
            return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > max)
        return std::nullopt;
    return value;
}

std::uint32_t parse_id(std::string_view line, std::string_view text) {
    auto value = parse_decimal(text, 0xffffffffu);
    if (!value)
        fail(line, "the batch id " + shown(text) + " is not a decimal number from 0 to 4294967295");
    return static_cast<std::uint32_t>(*value);
}

std::string canonical_address(bool v6, std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
        return {};
    std::string copy(text);
    std::array<unsigned char, 16> bytes{};
    if (::inet_pton(v6 ? AF_INET6 : AF_INET, copy.c_str(), bytes.data()) != 1)
        return {};
    char buffer[INET6_ADDRSTRLEN] = {};
    if (!::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer))
        return {};
    return buffer;
}

std::vector<std::uint16_t> parse_ports(std::string_view line, std::string_view text) {
    std::vector<std::uint16_t> ports;
    for (std::string_view part : split(text, ',')) {
        auto value = parse_decimal(part, 65535);
        if (!value || *value == 0)
            fail(line, "the port " + shown(part) + " is not a number from 1 to 65535");
        if (!ports.empty() && *value <= ports.back())
            fail(line, "the ports must be strictly increasing");
        ports.push_back(static_cast<std::uint16_t>(*value));
        if (ports.size() > max_ports_per_line)
            fail(line, "more than " + std::to_string(max_ports_per_line) + " ports");
    }
    return ports;
}

bool deny_name_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_' || c == '?';
}

bool valid_qtype(std::string_view text) {
    if (text.empty() || text.size() > max_qtype_length || !(text.front() >= 'A' && text.front() <= 'Z'))
        return false;
    for (char c : text)
        if (!((c >= 'A' && c <= 'Z') || is_digit(c) || c == '-'))
            return false;
    return true;
}

std::string clean_qtype(std::string_view qtype, std::uint16_t number) {
    return valid_qtype(qtype) ? std::string(qtype) : "TYPE" + std::to_string(number);
}

std::string clean_name(std::string_view name) {
    std::string clean;
    for (char c : name.substr(0, max_deny_name_length)) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        clean += deny_name_char(c) ? c : '?';
    }
    return clean.empty() ? "." : clean;
}

std::string parse_name(std::string_view line, std::string_view name) {
    if (name.size() > max_deny_name_length)
        fail(line, "the name is longer than 253 characters");
    for (char c : name)
        if (!deny_name_char(c))
            fail(line, "the name may only contain a-z, 0-9, '.', '-', '_' and '?'");
    return std::string(name);
}

QueryReport parse_query(std::string_view line, std::string_view qtype, std::string_view proto,
                        std::string_view name) {
    if (!valid_qtype(qtype))
        fail(line, "the query type " + shown(qtype) + " is not a mnemonic like A, TXT or TYPE65");
    if (proto != "udp" && proto != "tcp")
        fail(line, "the protocol " + shown(proto) + " is not udp or tcp");
    return QueryReport{std::string(qtype), proto == "tcp", parse_name(line, name)};
}

std::string ports_text(const std::vector<std::uint16_t> &ports) {
    std::string out;
    for (std::uint16_t port : ports) {
        if (!out.empty())
            out += ',';
        out += std::to_string(port);
    }
    return out;
}

}  // namespace

std::string format_ready() { return "ready\n"; }

std::string format_address(std::uint32_t id, const AnswerAddress &address) {
    return std::to_string(id) + (address.v6 ? " 6 " : " 4 ") + address.address + " " +
           std::to_string(address.ttl) + " " + ports_text(address.ports) + "\n";
}

std::string format_end(std::uint32_t id, std::string_view name) {
    return std::to_string(id) + " end " + clean_name(name) + "\n";
}

std::string format_deny(std::string_view qtype, std::uint16_t qtype_number, bool tcp, DenyReason reason,
                        std::string_view name) {
    const char *why = reason == DenyReason::name ? " name " : reason == DenyReason::type ? " type " : " class ";
    return "deny " + clean_qtype(qtype, qtype_number) + (tcp ? " tcp" : " udp") + why + clean_name(name) + "\n";
}

std::string format_allow(std::string_view qtype, std::uint16_t qtype_number, bool tcp, std::string_view name) {
    return "allow " + clean_qtype(qtype, qtype_number) + (tcp ? " tcp " : " udp ") + clean_name(name) + "\n";
}

EventLine parse_event_line(std::string_view line) {
    if (line.size() > max_line_length)
        fail(line, "longer than " + std::to_string(max_line_length) + " bytes");
    for (char c : line) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f)
            fail(line, "it contains a control or non-ASCII byte");
    }
    std::vector<std::string_view> fields = split(line, ' ');
    for (std::string_view field : fields)
        if (field.empty())
            fail(line, "fields must be separated by exactly one space, without leading or trailing spaces");

    EventLine event;
    if (fields.size() == 1 && fields[0] == "ready") {
        event.kind = EventLine::Kind::ready;
        return event;
    }
    if (fields[0] == "deny") {
        if (fields.size() != 5)
            fail(line, "a deny line is \"deny <qtype> <udp|tcp> <name|type|class> <name>\"");
        event.kind = EventLine::Kind::deny;
        event.query = parse_query(line, fields[1], fields[2], fields[4]);
        if (fields[3] == "name")
            event.reason = DenyReason::name;
        else if (fields[3] == "type")
            event.reason = DenyReason::type;
        else if (fields[3] == "class")
            event.reason = DenyReason::qclass;
        else
            fail(line, "the reason " + shown(fields[3]) + " is not name, type or class");
        return event;
    }
    if (fields[0] == "policy") {
        if (fields.size() != 3 || fields[2] != "done")
            fail(line, "a policy line is \"policy <seq> done\"");
        event.kind = EventLine::Kind::policy_done;
        event.id = parse_id(line, fields[1]);
        return event;
    }
    if (fields[0] == "allow") {
        if (fields.size() != 4)
            fail(line, "an allow line is \"allow <qtype> <udp|tcp> <name>\"");
        event.kind = EventLine::Kind::allow;
        event.query = parse_query(line, fields[1], fields[2], fields[3]);
        return event;
    }
    if (fields.size() == 3 && fields[1] == "end") {
        event.kind = EventLine::Kind::end;
        event.id = parse_id(line, fields[0]);
        event.name = parse_name(line, fields[2]);
        return event;
    }
    if (fields.size() < 5 && fields.size() > 1 && fields[1] == "end")
        fail(line, "an end line is \"<id> end <name>\"");
    if (fields.size() != 5)
        fail(line, "an address line is \"<id> 4|6 <address> <ttl> <ports>\"");
    event.kind = EventLine::Kind::address;
    event.id = parse_id(line, fields[0]);
    if (fields[1] != "4" && fields[1] != "6")
        fail(line, "the family must be 4 or 6");
    event.address.v6 = fields[1] == "6";
    std::string canonical = canonical_address(event.address.v6, fields[2]);
    if (canonical.empty())
        fail(line, shown(fields[2]) + " is not an IPv" + std::string(fields[1]) + " address");
    if (canonical != fields[2])
        fail(line, shown(fields[2]) + " is not in canonical form (" + canonical + ")");
    event.address.address = std::move(canonical);
    auto ttl = parse_decimal(fields[3], 0xffffffffu);
    if (!ttl)
        fail(line, "the TTL " + shown(fields[3]) + " is not a number from 0 to 4294967295");
    event.address.ttl = static_cast<std::uint32_t>(*ttl);
    event.address.ports = parse_ports(line, fields[4]);
    return event;
}

std::string format_policy_done(std::uint32_t seq) { return "policy " + std::to_string(seq) + " done\n"; }

std::string format_policy(std::uint32_t seq, std::string_view entry, const std::vector<std::uint16_t> &ports) {
    return "policy " + std::to_string(seq) + " " + std::string(entry) + " " +
           (ports.empty() ? std::string("-") : ports_text(ports)) + "\n";
}

std::optional<PolicyChange> parse_policy(std::string_view line) {
    std::vector<std::string_view> fields = split(line, ' ');
    if (fields[0] != "policy")
        return std::nullopt;
    auto bad = [&](std::string_view why) -> PolicyChange {
        throw FeedError("the supervisor sent a malformed policy line " + shown(line) + ": " + std::string(why));
    };
    if (fields.size() != 4)
        return bad("expected \"policy <seq> <entry> <ports>|-\"");
    PolicyChange change;
    auto seq = parse_decimal(fields[1], 0xffffffffu);
    if (!seq)
        return bad("the sequence number is not a decimal uint32");
    change.seq = static_cast<std::uint32_t>(*seq);
    std::string_view entry = fields[2];
    std::string_view rest = entry.substr(0, 2) == "*." ? entry.substr(2) : entry;
    if (rest.empty() || rest.size() > max_deny_name_length)
        return bad("the entry is not a name of 1 to 253 characters");
    for (char c : rest)
        if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_'))
            return bad("the entry may only contain a-z, 0-9, '.', '-', '_' (and a leading \"*.\")");
    change.entry = std::string(entry);
    if (fields[3] != "-") {
        try {
            change.ports = parse_ports(line, fields[3]);
        } catch (const FeedError &) {
            return bad("the ports are not strictly increasing numbers from 1 to 65535");
        }
    }
    return change;
}

std::string format_ack(std::uint32_t id, bool ok, std::uint32_t life) {
    return std::to_string(id) + (ok ? " ok " + std::to_string(life) + "\n" : std::string(" fail\n"));
}

std::optional<Ack> parse_ack(std::string_view line) {
    std::vector<std::string_view> fields = split(line, ' ');
    auto id = parse_decimal(fields[0], 0xffffffffu);
    if (!id)
        return std::nullopt;
    if (fields.size() == 2 && fields[1] == "fail")
        return Ack{static_cast<std::uint32_t>(*id), false, 0};
    if (fields.size() != 3 || fields[1] != "ok")
        return std::nullopt;
    auto life = parse_decimal(fields[2], 0xffffffffu);
    if (!life)
        return std::nullopt;
    return Ack{static_cast<std::uint32_t>(*id), true, static_cast<std::uint32_t>(*life)};
}

void LineSplitter::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        std::size_t newline = bytes.find('\n');
        std::string_view part = bytes.substr(0, newline);
        if (discarding_) {
            if (newline == std::string_view::npos)
                return;
            discarding_ = false;
            ready_.push_back(Item{{}, true});
        } else if (buffer_.size() + part.size() > max_line_length) {
            buffer_.clear();
            if (newline == std::string_view::npos) {
                discarding_ = true;
                return;
            }
            ready_.push_back(Item{{}, true});
        } else {
            buffer_.append(part);
            if (newline == std::string_view::npos)
                return;
            ready_.push_back(Item{std::move(buffer_), false});
            buffer_.clear();
        }
        bytes.remove_prefix(newline + 1);
    }
}

std::optional<LineSplitter::Item> LineSplitter::next() {
    if (ready_.empty())
        return std::nullopt;
    Item item = std::move(ready_.front());
    ready_.pop_front();
    return item;
}

}  // namespace rustyolo::net::feed
