// The line protocol between the DNS filter (unprivileged) and the supervisor's feeder thread (in
// net-nftables, privileged; net-iptables starts the filter without the pipes). Two pipes, one per
// direction; every message is one line of printable ASCII ending in '\n', fields separated by
// exactly one space. Nothing else is ever sent.
//
// Filter -> supervisor ("events" pipe):
//   ready                                 once, when the filter serves queries
//   <id> 4 <ipv4> <ttl> <port>[,<port>...] an address from an answer for batch <id>
//   <id> 6 <ipv6> <ttl> <port>[,<port>...] (addresses in canonical inet_ntop form)
//   <id> end <name>                       batch <id> is complete: add it, then acknowledge; <name>
//                                         is the queried name the addresses were resolved from
//   deny <qtype> <proto> <why> <name>     a refused query (audit): <why> is name (not in the allow
//                                         list), type (the type is not answered) or class (not IN)
//   allow <qtype> <proto> <name>          a query the filter answers (audit; only with
//                                         --report-allowed yes, i.e. audit level verbose)
//   policy <seq> done                     the live change <seq> is in force: every query read
//                                         after it is judged by the new allow list, and every
//                                         batch of an earlier query was written before this line
//
// Supervisor -> filter ("ack" pipe):
//   <id> ok <life>                        every address of batch <id> that passed the policy is in
//                                         the firewall's sets, and stays there for at least <life>
//                                         seconds counted from before the batch was read; <life>
//                                         is 0 when an address of the batch was refused by the
//                                         policy (the filter must then not rely on the batch)
//   <id> fail                             the batch was not applied; the filter answers SERVFAIL
//   policy <seq> <entry> <ports>|-        a live change (`rustyolo allow` / `deny`): the ports a
//                                         live entry opens from now on, "-" when it is taken back;
//                                         <entry> is a name or *.suffix as in --allow. The filter
//                                         keeps its start-up entries and the live ones apart; a
//                                         change that narrows empties its answer cache and what
//                                         it knows of the sets. Answered with "policy <seq> done".
//
// <id> is a decimal uint32 without leading zeros; <ttl> and <life> decimal uint32 (seconds);
// ports are 1..65535, strictly increasing; <qtype> the type's mnemonic as ldns prints it ("A",
// "TXT", "NSAP-PTR", "TYPE65280": [A-Z0-9-], 1..16 characters, starting with a letter); <proto> is
// udp or tcp; names are lowercase [a-z0-9._?-] ('?' stands for any other byte), at most 253
// characters, "." for the root. The filter answers the client only after the ack, so the first
// connect after a lookup never races the set update.
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

namespace rustyolo::net::feed {

inline constexpr std::size_t max_line_length = 512;
inline constexpr std::size_t max_ports_per_line = 64;
inline constexpr std::size_t max_addresses_per_batch = 256;
inline constexpr std::size_t max_deny_name_length = 253;
inline constexpr std::size_t max_qtype_length = 16;

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

// Why a query was refused.
enum class DenyReason { name, type, qclass };

// A query the filter reports for the audit (deny and allow lines).
struct QueryReport {
    std::string qtype;          // mnemonic
    bool tcp = false;
    std::string name;
    bool operator==(const QueryReport &) const = default;
};

struct EventLine {
    enum class Kind { ready, address, end, deny, allow, policy_done };
    Kind kind = Kind::ready;
    std::uint32_t id = 0;          // address, end; policy_done: the change's <seq>
    AnswerAddress address;         // address
    std::string name;              // end: the queried name
    QueryReport query;             // deny, allow
    DenyReason reason = DenyReason::name;  // deny
};

// Filter side: the lines it writes (each ends in '\n'). Names are sanitised here: lowercased,
// bytes outside [a-z0-9._-] become '?', cut to 253 characters, "" becomes ".". A qtype mnemonic
// outside the protocol's alphabet is sent as TYPE<number>.
std::string format_ready();
std::string format_address(std::uint32_t id, const AnswerAddress &address);
std::string format_end(std::uint32_t id, std::string_view name);
std::string format_deny(std::string_view qtype, std::uint16_t qtype_number, bool tcp, DenyReason reason,
                        std::string_view name);
std::string format_allow(std::string_view qtype, std::uint16_t qtype_number, bool tcp, std::string_view name);

// Supervisor side: one line without its '\n'. Throws FeedError naming what is wrong.
EventLine parse_event_line(std::string_view line);

// Filter side: the answer to a live change.
std::string format_policy_done(std::uint32_t seq);

// Supervisor -> filter: a live change. `ports` empty: the live entry is taken back. `entry` must
// be a name or *.suffix in the allow entries' normal form (lowercase, no trailing dot).
std::string format_policy(std::uint32_t seq, std::string_view entry, const std::vector<std::uint16_t> &ports);
struct PolicyChange {
    std::uint32_t seq = 0;
    std::string entry;
    std::vector<std::uint16_t> ports;  // empty: taken back
};
// One line without its '\n'; nullopt when it is not a policy line; throws FeedError when it is
// one but malformed.
std::optional<PolicyChange> parse_policy(std::string_view line);

// Supervisor -> filter. `life` is only sent with ok.
std::string format_ack(std::uint32_t id, bool ok, std::uint32_t life = 0);
struct Ack {
    std::uint32_t id = 0;
    bool ok = false;
    std::uint32_t life = 0;  // seconds; 0 with fail
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

}  // namespace rustyolo::net::feed
