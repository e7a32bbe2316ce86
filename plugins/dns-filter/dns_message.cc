#include "plugins/dns-filter/dns_message.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <optional>

namespace rustyolo::dns {
namespace {

constexpr std::size_t max_chain_links = 16;

struct FreeDeleter {
    void operator()(void *pointer) const noexcept { std::free(pointer); }
};

Bytes to_wire(const ldns_pkt *packet) {
    std::uint8_t *wire = nullptr;
    std::size_t size = 0;
    if (ldns_pkt2wire(&wire, packet, &size) != LDNS_STATUS_OK || !wire)
        return {};
    std::unique_ptr<std::uint8_t, FreeDeleter> owned(wire);
    return Bytes(wire, wire + size);
}

bool plain_label_byte(std::uint8_t byte) {
    return (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte == '-' || byte == '_';
}

// The dname's text as the allow list sees it. An ldns dname rdf holds the name in wire form
// (length-prefixed labels ending with the empty root label); ldns has validated it already.
QueryName query_name(const ldns_rdf *dname) {
    QueryName name;
    if (!dname || ldns_rdf_get_type(dname) != LDNS_RDF_TYPE_DNAME) {
        name.plain = false;
        return name;
    }
    const std::uint8_t *data = ldns_rdf_data(dname);
    std::size_t size = ldns_rdf_size(dname);
    std::size_t at = 0;
    while (at < size) {
        std::size_t length = data[at];
        if (length == 0)
            break;
        if (at + 1 + length > size) {
            name.plain = false;
            break;
        }
        if (!name.text.empty())
            name.text += '.';
        for (std::size_t i = 0; i < length; ++i) {
            std::uint8_t byte = data[at + 1 + i];
            if (byte >= 'A' && byte <= 'Z')
                byte = static_cast<std::uint8_t>(byte - 'A' + 'a');
            if (plain_label_byte(byte)) {
                name.text += static_cast<char>(byte);
            } else {
                name.text += '?';
                name.plain = false;
            }
        }
        at += 1 + length;
    }
    return name;
}

const ldns_rr *only_question(const ldns_pkt *packet) {
    const ldns_rr_list *questions = ldns_pkt_question(packet);
    if (!questions || ldns_rr_list_rr_count(questions) != 1)
        return nullptr;
    return ldns_rr_list_rr(questions, 0);
}

bool same_name(const ldns_rdf *a, const ldns_rdf *b) { return ldns_dname_compare(a, b) == 0; }

// The names the CNAME chain from `qname` reaches, each with the smallest TTL on its way there.
struct ChainName {
    const ldns_rdf *name;
    std::uint32_t ttl;
};
std::vector<ChainName> chain_names(const ldns_pkt *reply, const ldns_rdf *qname) {
    std::vector<ChainName> chain{{qname, std::numeric_limits<std::uint32_t>::max()}};
    const ldns_rr_list *answer = ldns_pkt_answer(reply);
    if (!answer)
        return chain;
    for (std::size_t link = 0; link < max_chain_links; ++link) {
        bool grew = false;
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
            const ldns_rr *rr = ldns_rr_list_rr(answer, i);
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
                ldns_rr_rd_count(rr) != 1)
                continue;
            const ldns_rdf *target = ldns_rr_rdf(rr, 0);
            auto from = std::find_if(chain.begin(), chain.end(),
                                     [&](const ChainName &c) { return same_name(c.name, ldns_rr_owner(rr)); });
            if (from == chain.end() || !target || ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME)
                continue;
            bool known = std::any_of(chain.begin(), chain.end(),
                                     [&](const ChainName &c) { return same_name(c.name, target); });
            if (known)
                continue;
            chain.push_back(ChainName{target, std::min(from->ttl, ldns_rr_ttl(rr))});
            grew = true;
        }
        if (!grew)
            break;
    }
    return chain;
}

const ChainName *on_chain(const std::vector<ChainName> &chain, const ldns_rdf *owner) {
    for (const ChainName &c : chain)
        if (same_name(c.name, owner))
            return &c;
    return nullptr;
}

Packet new_reply(const ClientQuery &query) {
    Packet reply(ldns_pkt_new());
    if (!reply)
        return reply;
    ldns_pkt_set_id(reply.get(), query.id);
    ldns_pkt_set_qr(reply.get(), true);
    ldns_pkt_set_opcode(reply.get(), ldns_pkt_get_opcode(query.packet.get()));
    ldns_pkt_set_rd(reply.get(), query.recursion_desired);
    if (const ldns_rr *question = query.question())
        ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    if (query.edns)
        ldns_pkt_set_edns_udp_size(reply.get(), static_cast<std::uint16_t>(edns_udp_size));
    return reply;
}

ldns_rr *capped_clone(const ldns_rr *rr, std::uint32_t ttl_cap) {
    ldns_rr *copy = ldns_rr_clone(rr);
    if (copy && ldns_rr_ttl(copy) > ttl_cap)
        ldns_rr_set_ttl(copy, ttl_cap);
    return copy;
}

}  // namespace

const ldns_rr *ClientQuery::question() const {
    return single_question && packet ? only_question(packet.get()) : nullptr;
}

std::optional<ClientQuery> parse_client_query(const std::uint8_t *data, std::size_t size) {
    ldns_pkt *raw = nullptr;
    if (!data || size == 0 || ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK || !raw)
        return std::nullopt;
    ClientQuery query;
    query.packet.reset(raw);
    if (ldns_pkt_qr(raw))
        return std::nullopt;
    query.id = ldns_pkt_id(raw);
    query.recursion_desired = ldns_pkt_rd(raw);
    std::uint16_t udp_size = ldns_pkt_edns_udp_size(raw);
    query.edns = udp_size > 0;
    if (query.edns)
        query.max_udp_reply = std::clamp<std::size_t>(udp_size, plain_udp_size, edns_udp_size);
    query.opcode_query = ldns_pkt_get_opcode(raw) == LDNS_PACKET_QUERY;
    const ldns_rr *question = only_question(raw);
    query.single_question = question != nullptr;
    if (question) {
        query.qtype = static_cast<std::uint16_t>(ldns_rr_get_type(question));
        query.qclass = static_cast<std::uint16_t>(ldns_rr_get_class(question));
        query.name = query_name(ldns_rr_owner(question));
    }
    return query;
}

Bytes build_error_reply(const ClientQuery &query, ldns_pkt_rcode rcode) {
    Packet reply = new_reply(query);
    if (!reply)
        return {};
    ldns_pkt_set_ra(reply.get(), true);
    ldns_pkt_set_rcode(reply.get(), static_cast<std::uint8_t>(rcode));
    return to_wire(reply.get());
}

Bytes build_blocked_reply(const ClientQuery &query, ldns_pkt_rcode rcode, std::string_view text,
                          std::string_view short_text, std::size_t max_size) {
    auto build = [&](std::optional<std::string_view> extra_text) {
        Packet reply = new_reply(query);
        if (!reply)
            return Bytes();
        ldns_pkt_set_aa(reply.get(), true);
        ldns_pkt_set_ra(reply.get(), true);
        ldns_pkt_set_rcode(reply.get(), static_cast<std::uint8_t>(rcode));
        if (query.edns && extra_text) {
            // OPTION-DATA: INFO-CODE (16 bits), then EXTRA-TEXT (UTF-8, not NUL-terminated).
            Bytes data{static_cast<std::uint8_t>(ede_blocked >> 8), static_cast<std::uint8_t>(ede_blocked & 0xff)};
            data.insert(data.end(), extra_text->begin(), extra_text->end());
            ldns_edns_option_list *options = ldns_edns_option_list_new();
            ldns_edns_option *option = ldns_edns_new_from_data(LDNS_EDNS_EDE, data.size(), data.data());
            if (!options || !option || !ldns_edns_option_list_push(options, option)) {
                if (option)
                    ldns_edns_deep_free(option);
                if (options)
                    ldns_edns_option_list_deep_free(options);
                return Bytes();
            }
            ldns_pkt_set_edns_option_list(reply.get(), options);  // the packet owns it now
        }
        return to_wire(reply.get());
    };
    for (std::optional<std::string_view> extra_text :
         {std::optional<std::string_view>(text), std::optional<std::string_view>(short_text),
          std::optional<std::string_view>()}) {
        Bytes wire = build(extra_text);
        if (!wire.empty() && wire.size() <= max_size)
            return wire;
    }
    return {};
}

Bytes build_upstream_query(const ClientQuery &query, std::uint16_t id) {
    const ldns_rr *question = query.question();
    if (!question)
        return {};
    Packet packet(ldns_pkt_new());
    if (!packet)
        return {};
    ldns_pkt_set_id(packet.get(), id);
    ldns_pkt_set_opcode(packet.get(), LDNS_PACKET_QUERY);
    ldns_pkt_set_rd(packet.get(), true);
    ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    ldns_pkt_set_edns_udp_size(packet.get(), static_cast<std::uint16_t>(edns_udp_size));
    return to_wire(packet.get());
}

std::optional<Packet> parse_upstream_reply(const std::uint8_t *data, std::size_t size, std::uint16_t id,
                                           const ClientQuery &query) {
    ldns_pkt *raw = nullptr;
    if (!data || size == 0 || ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK || !raw)
        return std::nullopt;
    Packet reply(raw);
    if (!ldns_pkt_qr(raw) || ldns_pkt_id(raw) != id || ldns_pkt_get_opcode(raw) != LDNS_PACKET_QUERY)
        return std::nullopt;
    const ldns_rr *asked = query.question();
    const ldns_rr *answered = only_question(raw);
    if (!asked || !answered || ldns_rr_get_type(asked) != ldns_rr_get_type(answered) ||
        ldns_rr_get_class(asked) != ldns_rr_get_class(answered) ||
        !same_name(ldns_rr_owner(asked), ldns_rr_owner(answered)))
        return std::nullopt;
    return reply;
}

std::vector<ChainAddress> chain_addresses(const ldns_pkt *reply, const ldns_rdf *qname) {
    std::vector<ChainAddress> addresses;
    const ldns_rr_list *answer = ldns_pkt_answer(reply);
    if (!answer || !qname)
        return addresses;
    std::vector<ChainName> chain = chain_names(reply, qname);
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
        const ldns_rr *rr = ldns_rr_list_rr(answer, i);
        ldns_rr_type type = ldns_rr_get_type(rr);
        if ((type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA) || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
            ldns_rr_rd_count(rr) != 1)
            continue;
        const ChainName *owner = on_chain(chain, ldns_rr_owner(rr));
        const ldns_rdf *rdata = ldns_rr_rdf(rr, 0);
        if (!owner || !rdata)
            continue;
        bool v6 = type == LDNS_RR_TYPE_AAAA;
        if (ldns_rdf_size(rdata) != (v6 ? 16u : 4u))
            continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (!::inet_ntop(v6 ? AF_INET6 : AF_INET, ldns_rdf_data(rdata), text, sizeof text))
            continue;
        ChainAddress address{v6, text, std::min(owner->ttl, ldns_rr_ttl(rr))};
        auto same = std::find_if(addresses.begin(), addresses.end(), [&](const ChainAddress &a) {
            return a.v6 == address.v6 && a.address == address.address;
        });
        if (same == addresses.end())
            addresses.push_back(std::move(address));
        else
            same->ttl = std::min(same->ttl, address.ttl);
    }
    return addresses;
}

Packet build_client_reply_packet(const ClientQuery &query, const ldns_pkt *upstream, std::uint32_t ttl_cap) {
    const ldns_rr *question = query.question();
    Packet reply = new_reply(query);
    if (!reply || !question || !upstream)
        return Packet();
    ldns_pkt_set_ra(reply.get(), ldns_pkt_ra(upstream));
    ldns_pkt_set_rcode(reply.get(), static_cast<std::uint8_t>(ldns_pkt_get_rcode(upstream)));

    ldns_rr_type qtype = ldns_rr_get_type(question);
    std::vector<ChainName> chain = chain_names(upstream, ldns_rr_owner(question));
    if (const ldns_rr_list *answer = ldns_pkt_answer(upstream)) {
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
            const ldns_rr *rr = ldns_rr_list_rr(answer, i);
            ldns_rr_type type = ldns_rr_get_type(rr);
            bool wanted = type == LDNS_RR_TYPE_CNAME || type == qtype || qtype == LDNS_RR_TYPE_ANY;
            if (wanted && type != LDNS_RR_TYPE_OPT && on_chain(chain, ldns_rr_owner(rr)))
                ldns_pkt_push_rr(reply.get(), LDNS_SECTION_ANSWER, capped_clone(rr, ttl_cap));
        }
    }
    if (const ldns_rr_list *authority = ldns_pkt_authority(upstream)) {
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(authority); ++i) {
            const ldns_rr *rr = ldns_rr_list_rr(authority, i);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
                ldns_pkt_push_rr(reply.get(), LDNS_SECTION_AUTHORITY, capped_clone(rr, ttl_cap));
        }
    }
    return reply;
}

Bytes packet_wire(const ldns_pkt *packet) { return packet ? to_wire(packet) : Bytes(); }

Bytes client_reply_wire(const ClientQuery &query, const ldns_pkt *reply, std::size_t max_size) {
    if (!reply)
        return {};
    Bytes wire = to_wire(reply);
    if (wire.size() <= max_size)
        return wire;
    Packet truncated = new_reply(query);
    if (!truncated)
        return {};
    ldns_pkt_set_ra(truncated.get(), ldns_pkt_ra(reply));
    ldns_pkt_set_rcode(truncated.get(), static_cast<std::uint8_t>(ldns_pkt_get_rcode(reply)));
    ldns_pkt_set_tc(truncated.get(), true);
    return to_wire(truncated.get());
}

Bytes build_client_reply(const ClientQuery &query, const ldns_pkt *upstream, std::uint32_t ttl_cap,
                         std::size_t max_size) {
    Packet reply = build_client_reply_packet(query, upstream, ttl_cap);
    return client_reply_wire(query, reply.get(), max_size);
}

std::string type_name(std::uint16_t type) {
    std::unique_ptr<char, FreeDeleter> text(ldns_rr_type2str(static_cast<ldns_rr_type>(type)));
    return text ? std::string(text.get()) : "TYPE" + std::to_string(type);
}

}  // namespace rustyolo::dns
