// DNS messages as the filter sees them, parsed and built with ldns (never by hand): the client's
// query, the query sent upstream, the upstream's reply, the CNAME chain in it, and the reply the
// client gets.
#pragma once

#include "plugins/dns-filter/ldns_include.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::dns {

struct PacketDeleter {
    void operator()(ldns_pkt *packet) const noexcept { ldns_pkt_free(packet); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;

using Bytes = std::vector<std::uint8_t>;

// Replies are at most this large over UDP with EDNS (the DNS flag day 2020 size), 512 without.
inline constexpr std::size_t edns_udp_size = 1232;
inline constexpr std::size_t plain_udp_size = 512;

// The question's name as the allow list sees it.
struct QueryName {
    std::string text;    // lowercase, no trailing dot; "" for the root
    bool plain = true;   // every label is [a-z0-9_-]; if not, the other bytes read '?' and the
                         // name never matches an allow entry
};

struct ClientQuery {
    Packet packet;                        // the parsed query
    std::uint16_t id = 0;
    bool recursion_desired = false;
    bool edns = false;                    // the client sent an OPT record
    std::size_t max_udp_reply = plain_udp_size;
    bool opcode_query = true;             // opcode QUERY
    bool single_question = true;          // exactly one question
    std::uint16_t qtype = 0;              // valid when single_question
    std::uint16_t qclass = 0;
    QueryName name;

    const ldns_rr *question() const;      // nullptr unless single_question
};

// Parses what a client sent. nullopt when it is not a DNS query at all (unparseable, or a
// response): such packets are dropped without a reply, so the filter never reflects traffic.
std::optional<ClientQuery> parse_client_query(const std::uint8_t *data, std::size_t size);

// An empty reply with `rcode` (SERVFAIL, FORMERR, NOTIMP) that echoes the question.
Bytes build_error_reply(const ClientQuery &query, ldns_pkt_rcode rcode);

// Extended DNS Error (RFC 8914) INFO-CODE 15, "Blocked": the name is blocked by a policy.
inline constexpr std::uint16_t ede_blocked = 15;

// The filter's own answer to a query its policy does not forward: `rcode` (NXDOMAIN, NOERROR
// with no records, REFUSED), AA set (the filter is the authority for its policy, nothing came
// from upstream), RA set, no records and no SOA (so no resolver caches the denial past the
// policy). When the query carried EDNS, the OPT record holds an Extended DNS Error "Blocked"
// with `text` as its EXTRA-TEXT; if the reply would then exceed `max_size`, `short_text` is used
// instead, and if even that does not fit, no EDE at all (the question alone always fits 512).
Bytes build_blocked_reply(const ClientQuery &query, ldns_pkt_rcode rcode, std::string_view text,
                          std::string_view short_text, std::size_t max_size);

// A fresh query for the client's single question: new id, RD set, EDNS UDP size 1232, nothing else
// from the client's packet (its flags, options and extra records never leave the sandbox).
Bytes build_upstream_query(const ClientQuery &query, std::uint16_t id);

// Accepts an upstream reply only if it answers the query we sent: same id, QR set, opcode QUERY,
// the same single question (name compared case-insensitively). nullopt otherwise.
std::optional<Packet> parse_upstream_reply(const std::uint8_t *data, std::size_t size, std::uint16_t id,
                                           const ClientQuery &query);

// An address at the end of the CNAME chain that starts at the question's name.
struct ChainAddress {
    bool v6 = false;
    std::string address;    // inet_ntop text
    std::uint32_t ttl = 0;  // the smallest TTL on the way: every CNAME of the chain and the record
    bool operator==(const ChainAddress &) const = default;
};
// A and AAAA records of the answer section owned by the question's name or a name the CNAME chain
// from it reaches (at most 16 links); records about other names are ignored.
std::vector<ChainAddress> chain_addresses(const ldns_pkt *reply, const ldns_rdf *qname);

// The client's reply: its id, question and RD; the upstream's rcode and RA; the answer section
// restricted to the chain (CNAMEs on it, and records of the question's type owned by a name on
// it), the authority section to SOA records (negative caching), no additional records. Every TTL
// is capped at `ttl_cap` so a client never caches longer than the firewall allows. If the result
// exceeds `max_size`, a truncated reply (TC set, question only) is returned so the client retries
// over TCP.
Bytes build_client_reply(const ClientQuery &query, const ldns_pkt *upstream, std::uint32_t ttl_cap,
                         std::size_t max_size);

// The same reply as a packet, before any size limit (what the answer cache keeps).
Packet build_client_reply_packet(const ClientQuery &query, const ldns_pkt *upstream, std::uint32_t ttl_cap);
// Its wire form, or the truncated reply (TC set, question only) if larger than `max_size`.
Bytes client_reply_wire(const ClientQuery &query, const ldns_pkt *reply, std::size_t max_size);
// The wire form of any packet ("" if ldns cannot render it).
Bytes packet_wire(const ldns_pkt *packet);

// The record type's mnemonic ("A", "AAAA", "TXT", "TYPE65280").
std::string type_name(std::uint16_t type);

}  // namespace rustyolo::dns
