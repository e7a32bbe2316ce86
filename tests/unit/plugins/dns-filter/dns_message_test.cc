#include "plugins/dns-filter/dns_message.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace rustyolo::dns {
namespace {

ldns_rr *rr(const std::string &text) {
    ldns_rr *record = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&record, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK) << text;
    return record;
}

ldns_rr *question(const std::string &name, ldns_rr_type type = LDNS_RR_TYPE_A) {
    ldns_rr *q = ldns_rr_new();
    ldns_rr_set_owner(q, ldns_dname_new_frm_str(name.c_str()));
    ldns_rr_set_type(q, type);
    ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
    ldns_rr_set_question(q, true);
    return q;
}

Bytes wire(const ldns_pkt *packet) {
    std::uint8_t *data = nullptr;
    std::size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&data, packet, &size), LDNS_STATUS_OK);
    Bytes out(data, data + size);
    std::free(data);
    return out;
}

Packet parse(const Bytes &bytes) {
    ldns_pkt *packet = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&packet, bytes.data(), bytes.size()), LDNS_STATUS_OK);
    return Packet(packet);
}

// A client's query as bytes.
Bytes query_bytes(const std::string &name, ldns_rr_type type = LDNS_RR_TYPE_A, std::uint16_t id = 0x1234,
                  std::uint16_t edns_size = 0) {
    Packet packet(ldns_pkt_new());
    ldns_pkt_set_id(packet.get(), id);
    ldns_pkt_set_rd(packet.get(), true);
    ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, question(name, type));
    if (edns_size)
        ldns_pkt_set_edns_udp_size(packet.get(), edns_size);
    return wire(packet.get());
}

ClientQuery client_query(const std::string &name, ldns_rr_type type = LDNS_RR_TYPE_A, std::uint16_t edns_size = 0) {
    Bytes bytes = query_bytes(name, type, 0x1234, edns_size);
    auto query = parse_client_query(bytes.data(), bytes.size());
    EXPECT_TRUE(query);
    return std::move(*query);
}

// An upstream reply to `name`/`type` with id `id` and the given answer and authority records.
Packet upstream_reply(const std::string &name, std::uint16_t id, const std::vector<std::string> &answer,
                      const std::vector<std::string> &authority = {}, ldns_rr_type type = LDNS_RR_TYPE_A,
                      const std::vector<std::string> &additional = {}) {
    Packet packet(ldns_pkt_new());
    ldns_pkt_set_id(packet.get(), id);
    ldns_pkt_set_qr(packet.get(), true);
    ldns_pkt_set_ra(packet.get(), true);
    ldns_pkt_set_rd(packet.get(), true);
    ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, question(name, type));
    for (const auto &text : answer)
        ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ANSWER, rr(text));
    for (const auto &text : authority)
        ldns_pkt_push_rr(packet.get(), LDNS_SECTION_AUTHORITY, rr(text));
    for (const auto &text : additional)
        ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ADDITIONAL, rr(text));
    return packet;
}

std::vector<std::string> section(const ldns_pkt *packet, ldns_rr_list *list) {
    (void)packet;
    std::vector<std::string> out;
    for (std::size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
        char *text = ldns_rr2str(ldns_rr_list_rr(list, i));
        std::string line = text;
        std::free(text);
        while (!line.empty() && line.back() == '\n')
            line.pop_back();
        // Name compression may spell a suffix as the question did; DNS names ignore case.
        for (char &c : line)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.push_back(line);
    }
    return out;
}

TEST(DnsFilterMessage, ParsesAClientQuery) {
    ClientQuery query = client_query("Api.Example.COM.", LDNS_RR_TYPE_AAAA);
    EXPECT_EQ(query.id, 0x1234);
    EXPECT_TRUE(query.recursion_desired);
    EXPECT_TRUE(query.opcode_query);
    EXPECT_TRUE(query.single_question);
    EXPECT_EQ(query.qtype, LDNS_RR_TYPE_AAAA);
    EXPECT_EQ(query.qclass, LDNS_RR_CLASS_IN);
    EXPECT_EQ(query.name.text, "api.example.com");
    EXPECT_TRUE(query.name.plain);
    EXPECT_FALSE(query.edns);
    EXPECT_EQ(query.max_udp_reply, plain_udp_size);
}

TEST(DnsFilterMessage, NamesWithOtherBytesAreNotPlain) {
    ClientQuery query = client_query("a\\000b.test.");
    EXPECT_FALSE(query.name.plain);
    EXPECT_EQ(query.name.text, "a?b.test");
    ClientQuery dotted = client_query("a\\.b.test.");
    EXPECT_FALSE(dotted.name.plain);
    EXPECT_EQ(dotted.name.text, "a?b.test");
    ClientQuery underscore = client_query("_acme.a.test.");
    EXPECT_TRUE(underscore.name.plain);
}

TEST(DnsFilterMessage, TheRootNameIsEmpty) {
    ClientQuery query = client_query(".", LDNS_RR_TYPE_NS);
    EXPECT_EQ(query.name.text, "");
    EXPECT_TRUE(query.name.plain);
}

TEST(DnsFilterMessage, EdnsSizeIsClamped) {
    EXPECT_EQ(client_query("a.test.", LDNS_RR_TYPE_A, 4096).max_udp_reply, edns_udp_size);
    EXPECT_EQ(client_query("a.test.", LDNS_RR_TYPE_A, 100).max_udp_reply, plain_udp_size);
    EXPECT_EQ(client_query("a.test.", LDNS_RR_TYPE_A, 800).max_udp_reply, 800u);
    EXPECT_TRUE(client_query("a.test.", LDNS_RR_TYPE_A, 800).edns);
}

TEST(DnsFilterMessage, GarbageAndResponsesAreNotQueries) {
    Bytes garbage = {0x12, 0x34, 0x01};
    EXPECT_FALSE(parse_client_query(garbage.data(), garbage.size()));
    EXPECT_FALSE(parse_client_query(nullptr, 0));
    Packet reply = upstream_reply("a.test.", 1, {"a.test. 60 IN A 1.2.3.4"});
    Bytes bytes = wire(reply.get());
    EXPECT_FALSE(parse_client_query(bytes.data(), bytes.size()));
}

TEST(DnsFilterMessage, OddShapesAreReported) {
    Packet two(ldns_pkt_new());
    ldns_pkt_push_rr(two.get(), LDNS_SECTION_QUESTION, question("a.test."));
    ldns_pkt_push_rr(two.get(), LDNS_SECTION_QUESTION, question("b.test."));
    Bytes bytes = wire(two.get());
    auto query = parse_client_query(bytes.data(), bytes.size());
    ASSERT_TRUE(query);
    EXPECT_FALSE(query->single_question);
    EXPECT_EQ(query->question(), nullptr);

    Packet notify(ldns_pkt_new());
    ldns_pkt_set_opcode(notify.get(), LDNS_PACKET_NOTIFY);
    ldns_pkt_push_rr(notify.get(), LDNS_SECTION_QUESTION, question("a.test."));
    bytes = wire(notify.get());
    query = parse_client_query(bytes.data(), bytes.size());
    ASSERT_TRUE(query);
    EXPECT_FALSE(query->opcode_query);
}

TEST(DnsFilterMessage, ErrorReplyEchoesIdQuestionAndRd) {
    ClientQuery query = client_query("Blocked.Test.");
    Packet reply = parse(build_error_reply(query, LDNS_RCODE_REFUSED));
    EXPECT_TRUE(ldns_pkt_qr(reply.get()));
    EXPECT_EQ(ldns_pkt_id(reply.get()), 0x1234);
    EXPECT_TRUE(ldns_pkt_rd(reply.get()));
    EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_REFUSED);
    EXPECT_EQ(ldns_pkt_ancount(reply.get()), 0);
    ASSERT_EQ(ldns_pkt_qdcount(reply.get()), 1);
    char *name = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(reply.get()), 0)));
    EXPECT_STREQ(name, "Blocked.Test.");  // the client's spelling, for 0x20 randomisation
    std::free(name);
}

// The EXTRA-TEXT of the reply's Extended DNS Error "Blocked", or nullopt without one.
std::optional<std::string> ede_text(ldns_pkt *reply) {
    ldns_edns_option_list *options = ldns_pkt_edns_get_option_list(reply);
    for (std::size_t i = 0; options && i < ldns_edns_option_list_get_count(options); ++i) {
        ldns_edns_option *option = ldns_edns_option_list_get_option(options, i);
        if (ldns_edns_get_code(option) != LDNS_EDNS_EDE || ldns_edns_get_size(option) < 2)
            continue;
        const std::uint8_t *data = ldns_edns_get_data(option);
        EXPECT_EQ((data[0] << 8) | data[1], ede_blocked);
        return std::string(reinterpret_cast<const char *>(data) + 2, ldns_edns_get_size(option) - 2);
    }
    return std::nullopt;
}

TEST(DnsFilterMessage, BlockedReplyWithoutEdnsIsAPlainAuthoritativeAnswer) {
    ClientQuery query = client_query("Blocked.Test.");
    Packet reply = parse(build_blocked_reply(query, LDNS_RCODE_NXDOMAIN, "long", "short", plain_udp_size));
    EXPECT_TRUE(ldns_pkt_qr(reply.get()));
    EXPECT_TRUE(ldns_pkt_aa(reply.get()));
    EXPECT_EQ(ldns_pkt_id(reply.get()), 0x1234);
    EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(ldns_pkt_ancount(reply.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(reply.get()), 0);  // no SOA: nobody caches the denial
    EXPECT_FALSE(ldns_pkt_edns(reply.get()));
    EXPECT_EQ(ede_text(reply.get()), std::nullopt);
}

TEST(DnsFilterMessage, BlockedReplyWithEdnsCarriesTheExtendedError) {
    ClientQuery query = client_query("blocked.test.", LDNS_RR_TYPE_A, 1232);
    Packet reply = parse(build_blocked_reply(query, LDNS_RCODE_NXDOMAIN, "the long reason", "short", 1232));
    EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_TRUE(ldns_pkt_edns(reply.get()));
    EXPECT_EQ(ede_text(reply.get()), "the long reason");
}

TEST(DnsFilterMessage, BlockedReplyStaysWithinTheClientsSize) {
    // A 250-byte name with EDNS size 512: question 256 bytes, the long text would pass 512.
    std::string name;
    while (name.size() < 240)
        name += "abcdefghi.";
    ClientQuery query = client_query(name + "test.", LDNS_RR_TYPE_A, 512);
    const std::string long_text(300, 'x');
    Bytes bytes = build_blocked_reply(query, LDNS_RCODE_NXDOMAIN, long_text, "short", 512);
    ASSERT_LE(bytes.size(), 512u);
    Packet reply = parse(bytes);
    EXPECT_EQ(ede_text(reply.get()), "short");
    // Over TCP the long text fits.
    Packet tcp = parse(build_blocked_reply(query, LDNS_RCODE_NXDOMAIN, long_text, "short", 65535));
    EXPECT_EQ(ede_text(tcp.get()), long_text);
    // When not even the short text fits, the reply goes without an EDE.
    const std::string long_short(400, 's');
    Packet bare = parse(build_blocked_reply(query, LDNS_RCODE_NXDOMAIN, long_text, long_short, 512));
    EXPECT_EQ(ede_text(bare.get()), std::nullopt);
    EXPECT_EQ(ldns_pkt_get_rcode(bare.get()), LDNS_RCODE_NXDOMAIN);
}

TEST(DnsFilterMessage, UpstreamQueryCarriesOnlyTheQuestion) {
    Packet client(ldns_pkt_new());
    ldns_pkt_set_id(client.get(), 0x4242);
    ldns_pkt_set_cd(client.get(), true);
    ldns_pkt_push_rr(client.get(), LDNS_SECTION_QUESTION, question("a.test."));
    ldns_pkt_push_rr(client.get(), LDNS_SECTION_ADDITIONAL, rr("smuggled.data.evil. 60 IN TXT \"payload\""));
    Bytes bytes = wire(client.get());
    auto query = parse_client_query(bytes.data(), bytes.size());
    ASSERT_TRUE(query);

    Packet upstream = parse(build_upstream_query(*query, 0x9999));
    EXPECT_EQ(ldns_pkt_id(upstream.get()), 0x9999);
    EXPECT_FALSE(ldns_pkt_qr(upstream.get()));
    EXPECT_TRUE(ldns_pkt_rd(upstream.get()));
    EXPECT_FALSE(ldns_pkt_cd(upstream.get()));
    EXPECT_EQ(ldns_pkt_qdcount(upstream.get()), 1);
    EXPECT_EQ(ldns_pkt_ancount(upstream.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(upstream.get()), 0);
    EXPECT_EQ(ldns_pkt_arcount(upstream.get()), 0);  // the OPT record is kept apart by ldns
    EXPECT_EQ(ldns_pkt_edns_udp_size(upstream.get()), edns_udp_size);
}

TEST(DnsFilterMessage, UpstreamReplyMustAnswerOurQuestion) {
    ClientQuery query = client_query("a.test.");
    auto bytes_of = [](const Packet &p) { return wire(p.get()); };
    Bytes good = bytes_of(upstream_reply("A.TEST.", 7, {"a.test. 60 IN A 1.2.3.4"}));
    EXPECT_TRUE(parse_upstream_reply(good.data(), good.size(), 7, query));
    EXPECT_FALSE(parse_upstream_reply(good.data(), good.size(), 8, query));  // wrong id

    Bytes other_name = bytes_of(upstream_reply("b.test.", 7, {"b.test. 60 IN A 1.2.3.4"}));
    EXPECT_FALSE(parse_upstream_reply(other_name.data(), other_name.size(), 7, query));
    Bytes other_type = bytes_of(upstream_reply("a.test.", 7, {}, {}, LDNS_RR_TYPE_AAAA));
    EXPECT_FALSE(parse_upstream_reply(other_type.data(), other_type.size(), 7, query));

    Packet not_reply = upstream_reply("a.test.", 7, {});
    ldns_pkt_set_qr(not_reply.get(), false);
    Bytes query_bytes_ = bytes_of(not_reply);
    EXPECT_FALSE(parse_upstream_reply(query_bytes_.data(), query_bytes_.size(), 7, query));
    Bytes garbage = {1, 2, 3};
    EXPECT_FALSE(parse_upstream_reply(garbage.data(), garbage.size(), 7, query));
}

TEST(DnsFilterMessage, ChainAddressesFollowCnamesFromTheQuestion) {
    Packet reply = upstream_reply("alias.test.", 1,
                                  {"alias.test. 300 IN CNAME mid.test.", "MID.test. 120 IN CNAME target.test.",
                                   "target.test. 600 IN A 1.2.3.4", "target.test. 30 IN A 1.2.3.5",
                                   "unrelated.test. 600 IN A 6.6.6.6", "target.test. 600 IN AAAA 2001:db8::1"});
    ldns_rdf *qname = ldns_dname_new_frm_str("alias.test.");
    std::vector<ChainAddress> addresses = chain_addresses(reply.get(), qname);
    ldns_rdf_deep_free(qname);
    std::vector<ChainAddress> expected = {
        {false, "1.2.3.4", 120}, {false, "1.2.3.5", 30}, {true, "2001:db8::1", 120}};
    EXPECT_EQ(addresses, expected);
}

TEST(DnsFilterMessage, ChainIgnoresRecordsNotReachedFromTheQuestion) {
    Packet reply = upstream_reply("a.test.", 1,
                                  {"other.test. 300 IN CNAME a.test.", "b.test. 60 IN A 9.9.9.9", "a.test. 60 IN A 1.1.1.1"});
    ldns_rdf *qname = ldns_dname_new_frm_str("a.test.");
    std::vector<ChainAddress> addresses = chain_addresses(reply.get(), qname);
    ldns_rdf_deep_free(qname);
    ASSERT_EQ(addresses.size(), 1u);
    EXPECT_EQ(addresses[0].address, "1.1.1.1");
}

TEST(DnsFilterMessage, CnameLoopsEnd) {
    Packet reply = upstream_reply("a.test.", 1, {"a.test. 60 IN CNAME b.test.", "b.test. 60 IN CNAME a.test."});
    ldns_rdf *qname = ldns_dname_new_frm_str("a.test.");
    EXPECT_TRUE(chain_addresses(reply.get(), qname).empty());
    ldns_rdf_deep_free(qname);
}

TEST(DnsFilterMessage, ClientReplyKeepsTheChainCapsTtlsAndDropsTheRest) {
    ClientQuery query = client_query("Alias.Test.");
    Packet upstream = upstream_reply("alias.test.", 77,
                                     {"alias.test. 86400 IN CNAME target.test.", "target.test. 60 IN A 1.2.3.4",
                                      "unrelated.test. 60 IN A 6.6.6.6", "target.test. 60 IN TXT \"x\""},
                                     {"test. 90000 IN SOA ns.test. host.test. 1 2 3 4 5", "test. 60 IN NS ns.test."},
                                     LDNS_RR_TYPE_A, {"ns.test. 60 IN A 7.7.7.7"});
    Packet reply = parse(build_client_reply(query, upstream.get(), 3600, 512));
    EXPECT_EQ(ldns_pkt_id(reply.get()), 0x1234);
    EXPECT_TRUE(ldns_pkt_qr(reply.get()));
    EXPECT_TRUE(ldns_pkt_ra(reply.get()));
    EXPECT_FALSE(ldns_pkt_tc(reply.get()));
    EXPECT_EQ(section(reply.get(), ldns_pkt_answer(reply.get())),
              (std::vector<std::string>{"alias.test.\t3600\tin\tcname\ttarget.test.", "target.test.\t60\tin\ta\t1.2.3.4"}));
    EXPECT_EQ(section(reply.get(), ldns_pkt_authority(reply.get())),
              (std::vector<std::string>{"test.\t3600\tin\tsoa\tns.test. host.test. 1 2 3 4 5"}));
    EXPECT_EQ(ldns_pkt_arcount(reply.get()), 0);
}

TEST(DnsFilterMessage, ClientReplyPassesTheRcode) {
    ClientQuery query = client_query("nothing.test.");
    Packet upstream = upstream_reply("nothing.test.", 1, {}, {"test. 60 IN SOA ns.test. host.test. 1 2 3 4 5"});
    ldns_pkt_set_rcode(upstream.get(), LDNS_RCODE_NXDOMAIN);
    Packet reply = parse(build_client_reply(query, upstream.get(), 3600, 512));
    EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(ldns_pkt_nscount(reply.get()), 1);
}

TEST(DnsFilterMessage, TooLargeReplyIsTruncatedForUdp) {
    ClientQuery query = client_query("big.test.");
    std::vector<std::string> answer;
    for (int i = 1; i <= 60; ++i)
        answer.push_back("big.test. 60 IN A 10.0.0." + std::to_string(i));
    Packet upstream = upstream_reply("big.test.", 1, answer);
    Bytes full = build_client_reply(query, upstream.get(), 3600, 65535);
    EXPECT_GT(full.size(), 512u);
    Packet truncated = parse(build_client_reply(query, upstream.get(), 3600, 512));
    EXPECT_TRUE(ldns_pkt_tc(truncated.get()));
    EXPECT_EQ(ldns_pkt_ancount(truncated.get()), 0);
    EXPECT_EQ(ldns_pkt_qdcount(truncated.get()), 1);
}

TEST(DnsFilterMessage, TypeNames) {
    EXPECT_EQ(type_name(LDNS_RR_TYPE_A), "A");
    EXPECT_EQ(type_name(LDNS_RR_TYPE_TXT), "TXT");
}

}  // namespace
}  // namespace rustyolo::dns
