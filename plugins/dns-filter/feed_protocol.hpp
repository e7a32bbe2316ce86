// The line protocol between the DNS filter (unprivileged) and the supervisor's feeder thread (inside
// the net-nftables plugin, privileged). Two pipes, one per direction; every message is one line of
// printable ASCII ending in '\n', fields separated by exactly one space. Nothing else is ever sent.
//
// Filter -> supervisor ("events" pipe):
//   ready                                 once, when the filter serves queries
//   <id> 4 <ipv4> <ttl> <port>[,<port>...] an address from an answer for batch <id>
//   <id> 6 <ipv6> <ttl> <port>[,<port>...] (addresses in canonical inet_ntop form)
//   <id> end                              batch <id> is complete: add it, then acknowledge
//   deny <qtype> <name>                   a refused query (for the audit); name is [a-z0-9._?-]
//
// Supervisor -> filter ("ack" pipe):
//   <id> ok                               every address of batch <id> that passed the policy is in
//                                         the firewall's sets
//   <id> fail                             the batch was not applied; the filter answers SERVFAIL
//
// <id> is a decimal uint32 without leading zeros; <ttl> a decimal uint32 (seconds, clamped by the
// supervisor); ports are 1..65535, strictly increasing. The filter answers the client only after
// the ack, so the first connect after a lookup never races the set update.
//
// The supervisor treats the filter as untrusted: parse_event_line() accepts exactly the forms above
// and throws FeedError on anything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::dns::feed {

inline constexpr std::size_t max_line_length = 512;
inline constexpr std::size_t max_ports_per_line = 64;
inline constexpr std::size_t max_addresses_per_batch = 256;
inline constexpr std::size_t max_deny_name_length = 253;

class FeedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct AnswerAddress {
    bool v6 = false;
    std::string address;               // canonical inet_ntop text
    std::uint32_t ttl = 0;             // seconds, as in the answer
    std::vector<std::uint16_t> ports;  // strictly increasing, never empty
    bool operator==(const AnswerAddress &) const = default;
};

struct EventLine {
    enum class Kind { ready, address, end, deny };
    Kind kind = Kind::ready;
    std::uint32_t id = 0;          // address, end
    AnswerAddress address;         // address
    std::uint16_t qtype = 0;       // deny
    std::string name;              // deny
};

// Filter side: the lines it writes (each ends in '\n').
std::string format_ready();
std::string format_address(std::uint32_t id, const AnswerAddress &address);
std::string format_end(std::uint32_t id);
// `name` is sanitised here: lowercased, bytes outside [a-z0-9._-] become '?', cut to 253 chars.
std::string format_deny(std::uint16_t qtype, std::string_view name);

// Supervisor side: one line without its '\n'. Throws FeedError naming what is wrong.
EventLine parse_event_line(std::string_view line);

// Supervisor -> filter.
std::string format_ack(std::uint32_t id, bool ok);
struct Ack {
    std::uint32_t id = 0;
    bool ok = false;
};
// One line without its '\n'; nullopt when malformed.
std::optional<Ack> parse_ack(std::string_view line);

// Splits a byte stream into lines of at most max_line_length. A longer line is reported once as
// overlong (its bytes are discarded up to the next '\n') so that one bad line cannot desynchronise
// the ones after it.
class LineSplitter {
public:
    struct Item {
        std::string line;     // without '\n'
        bool overlong = false;
    };
    void feed(std::string_view bytes);
    // The next complete line, or nullopt when none is buffered.
    std::optional<Item> next();

private:
    std::string buffer_;
    std::deque<Item> ready_;
    bool discarding_ = false;
};

}  // namespace rustyolo::dns::feed
