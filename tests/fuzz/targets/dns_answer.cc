// An upstream's answer as the filter handles it (plugins/dns-filter/server.cc: on_transaction,
// finish, answer_and_cache): parse_upstream_reply against the query that was sent, then the client's
// reply (build_client_reply_packet, client_reply_wire for UDP with and without EDNS and for TCP),
// the addresses of the CNAME chain (chain_addresses) as the feed lines the supervisor parses
// (format_address, format_end -> parse_event_line), and the answer cache (insert, lookup).
//
// The input is the upstream's message. The client's query is made to match it, as an upstream
// answering our question would: the input's own question (when ldns reads one) asked by a client
// with or without EDNS (bit 0 of the input's id), our id being the input's. An input without a
// question is tried against a fixed query (and must be refused).
#include "plugins/dns-filter/answer_cache.hpp"
#include "plugins/dns-filter/dns_message.hpp"
#include "plugins/net-common/feed_protocol.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace {

using namespace rustyolo;
using namespace rustyolo::dns;

// The wire form of a client's query for `question` (owner, type, class).
Bytes client_query_wire(const ldns_rr *question, bool edns, std::uint16_t id = 0x1234) {
    Packet packet(ldns_pkt_new());
    ldns_pkt_set_id(packet.get(), id);
    ldns_pkt_set_opcode(packet.get(), LDNS_PACKET_QUERY);
    ldns_pkt_set_rd(packet.get(), true);
    ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    if (edns)
        ldns_pkt_set_edns_udp_size(packet.get(), 4096);
    return packet_wire(packet.get());
}

std::optional<ClientQuery> matching_query(const std::uint8_t *data, std::size_t size) {
    ldns_pkt *raw = nullptr;
    if (size < 12 || ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK || !raw)
        return std::nullopt;
    Packet reply(raw);
    const ldns_rr_list *questions = ldns_pkt_question(raw);
    if (!questions || ldns_rr_list_rr_count(questions) != 1)
        return std::nullopt;
    const Bytes wire = client_query_wire(ldns_rr_list_rr(questions, 0), data[1] & 1);
    return parse_client_query(wire.data(), wire.size());
}

ClientQuery fixed_query() {
    static const std::uint8_t wire[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                        7,    'a',  'l',  'l',  'o', 'w', 'e', 'd', 4, 't', 'e', 's', 't', 0,
                                        0,    1,    0,    1};
    return *parse_client_query(wire, sizeof wire);
}

void check_feed_line(const std::string &line) {
    fuzz::check(!line.empty() && line.back() == '\n', "feed line without its newline", line);
    try {
        net::feed::parse_event_line(std::string_view(line.data(), line.size() - 1));
    } catch (const net::feed::FeedError &e) {
        fuzz::check(false, "the supervisor refuses a line the filter wrote", line + " (" + e.what() + ")");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 2)
        return 0;
    const std::uint16_t our_id = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
    std::optional<ClientQuery> matched = matching_query(data, size);
    ClientQuery query = matched ? std::move(*matched) : fixed_query();
    fuzz::check(query.single_question, "the client's query has no single question");

    std::optional<Packet> reply = parse_upstream_reply(data, size, our_id, query);
    if (!reply)
        return 0;  // not the answer to our question: the filter keeps waiting
    const ldns_pkt *upstream = reply->get();
    if (ldns_pkt_tc(upstream))
        return 0;  // asked again over TCP

    constexpr std::uint32_t ttl_cap = 300;
    Packet client_reply = build_client_reply_packet(query, upstream, ttl_cap);
    for (std::size_t limit : {plain_udp_size, query.max_udp_reply, std::size_t{65535}}) {
        const Bytes wire = client_reply_wire(query, client_reply.get(), limit);
        if (wire.empty())
            continue;
        fuzz::check(wire.size() <= limit || limit < 12, "a reply larger than the client takes",
                    std::to_string(wire.size()) + " > " + std::to_string(limit));
        fuzz::check(wire[0] == (query.id >> 8) && wire[1] == (query.id & 0xff), "a reply with another id");
        // What the client gets is a DNS message the filter itself can read.
        ldns_pkt *parsed = nullptr;
        fuzz::check(ldns_wire2pkt(&parsed, wire.data(), wire.size()) == LDNS_STATUS_OK, "an unreadable reply");
        Packet owned(parsed);
        if (ldns_pkt_ancount(parsed) > 0 || ldns_pkt_nscount(parsed) > 0)
            for (const ldns_rr_list *section : {ldns_pkt_answer(parsed), ldns_pkt_authority(parsed)})
                for (std::size_t i = 0; section && i < ldns_rr_list_rr_count(section); ++i)
                    fuzz::check(ldns_rr_ttl(ldns_rr_list_rr(section, i)) <= ttl_cap, "a TTL above the cap");
    }
    build_client_reply(query, upstream, ttl_cap, query.max_udp_reply);

    const std::vector<ChainAddress> addresses = chain_addresses(upstream, ldns_rr_owner(query.question()));
    for (const ChainAddress &address : addresses)
        check_feed_line(net::feed::format_address(7, net::feed::AnswerAddress{address.v6, address.address,
                                                                              address.ttl, {80, 443}}));
    check_feed_line(net::feed::format_end(7, query.name.text));

    // The cache keeps what the client got and serves it again to the same question.
    AnswerCache cache(AnswerCache::Limits{4, 4096});
    const auto now = AnswerCache::Clock::now();
    cache.insert(query, std::move(client_reply), now, now + std::chrono::hours(1));
    if (std::optional<Bytes> hit = cache.lookup(query, 65535, now + std::chrono::seconds(1))) {
        fuzz::check(hit->size() >= 12 && (*hit)[0] == (query.id >> 8) && (*hit)[1] == (query.id & 0xff),
                    "a cached reply with another id");
        ldns_pkt *parsed = nullptr;
        fuzz::check(ldns_wire2pkt(&parsed, hit->data(), hit->size()) == LDNS_STATUS_OK, "an unreadable cached reply");
        ldns_pkt_free(parsed);
    }
    // Another client asks the same question in other letter case: it gets its own id and spelling.
    ldns_rr *other = ldns_rr_clone(query.question());
    ldns_rdf *owner = ldns_rr_owner(other);
    std::uint8_t *bytes = ldns_rdf_data(owner);
    for (std::size_t i = 0; i < ldns_rdf_size(owner); ++i)
        if ((bytes[i] | 0x20) >= 'a' && (bytes[i] | 0x20) <= 'z')
            bytes[i] ^= 0x20;
    const Bytes other_wire = client_query_wire(other, query.edns, 0x4321);
    ldns_rr_free(other);
    std::optional<ClientQuery> second = parse_client_query(other_wire.data(), other_wire.size());
    fuzz::check(second.has_value(), "the second client's query does not parse");
    if (std::optional<Bytes> hit = cache.lookup(*second, 65535, now + std::chrono::seconds(2))) {
        fuzz::check(hit->size() >= 12 && (*hit)[0] == 0x43 && (*hit)[1] == 0x21, "a cached reply with another id");
        const ldns_rdf *asked = ldns_rr_owner(second->question());
        fuzz::check(hit->size() >= 12 + ldns_rdf_size(asked) &&
                        std::equal(ldns_rdf_data(asked), ldns_rdf_data(asked) + ldns_rdf_size(asked), hit->begin() + 12),
                    "a cached reply with another spelling of the question");
        ldns_pkt *parsed = nullptr;
        fuzz::check(ldns_wire2pkt(&parsed, hit->data(), hit->size()) == LDNS_STATUS_OK, "an unreadable cached reply");
        Packet owned(parsed);
        fuzz::check(ldns_pkt_qdcount(parsed) == 1 && ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(parsed), 0)), asked) == 0,
                    "a cached reply to another question");
    }
    return 0;
}
