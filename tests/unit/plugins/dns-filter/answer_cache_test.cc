#include "plugins/dns-filter/answer_cache.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace rustyolo::dns {
namespace {

using Clock = AnswerCache::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

ldns_rr *rr(const std::string &text) {
    ldns_rr *record = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&record, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK) << text;
    return record;
}

ldns_rr *question(const std::string &name, ldns_rr_type type) {
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

ClientQuery client_query(const std::string &name, std::uint16_t id = 0x1234, bool rd = true, std::uint16_t edns = 0,
                         ldns_rr_type type = LDNS_RR_TYPE_A) {
    Packet packet(ldns_pkt_new());
    ldns_pkt_set_id(packet.get(), id);
    ldns_pkt_set_rd(packet.get(), rd);
    ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, question(name, type));
    if (edns)
        ldns_pkt_set_edns_udp_size(packet.get(), edns);
    Bytes bytes = wire(packet.get());
    auto query = parse_client_query(bytes.data(), bytes.size());
    EXPECT_TRUE(query);
    return std::move(*query);
}

// The reply the filter would give `query` for an upstream answer with these records.
Packet reply_for(const ClientQuery &query, const std::vector<std::string> &answer,
                 ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR) {
    Packet upstream(ldns_pkt_new());
    ldns_pkt_set_id(upstream.get(), 7);
    ldns_pkt_set_qr(upstream.get(), true);
    ldns_pkt_set_ra(upstream.get(), true);
    ldns_pkt_set_rcode(upstream.get(), static_cast<std::uint8_t>(rcode));
    ldns_pkt_push_rr(upstream.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(query.question()));
    for (const auto &text : answer)
        ldns_pkt_push_rr(upstream.get(), LDNS_SECTION_ANSWER, rr(text));
    return build_client_reply_packet(query, upstream.get(), 3600);
}

std::vector<std::uint32_t> answer_ttls(const Bytes &bytes) {
    Packet packet = parse(bytes);
    std::vector<std::uint32_t> ttls;
    for (std::size_t i = 0; i < ldns_pkt_ancount(packet.get()); ++i)
        ttls.push_back(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(packet.get()), i)));
    return ttls;
}

const auto forever = Clock::time_point::max() - std::chrono::hours(24);

TEST(DnsAnswerCache, ServesTtlsCountedDownAndExpiresWhenTheSmallestTtlRunsOut) {
    AnswerCache cache({});
    auto t0 = Clock::now();
    ClientQuery query = client_query("alias.test");
    cache.insert(query, reply_for(query, {"alias.test. 10 IN CNAME target.test.", "target.test. 3 IN A 1.2.3.4"}),
                 t0, forever);
    ASSERT_EQ(cache.size(), 1u);
    auto hit = cache.lookup(query, 512, t0 + milliseconds(100));
    ASSERT_TRUE(hit);
    EXPECT_EQ(answer_ttls(*hit), (std::vector<std::uint32_t>{3, 3}));  // never more than the entry has left
    hit = cache.lookup(query, 512, t0 + milliseconds(1500));
    ASSERT_TRUE(hit);
    EXPECT_EQ(answer_ttls(*hit), (std::vector<std::uint32_t>{2, 2}));
    hit = cache.lookup(query, 512, t0 + milliseconds(2999));
    ASSERT_TRUE(hit);
    EXPECT_EQ(answer_ttls(*hit), (std::vector<std::uint32_t>{1, 1}));
    EXPECT_FALSE(cache.lookup(query, 512, t0 + seconds(3)));
    EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped";
}

TEST(DnsAnswerCache, NeverOutlivesTheLimitTheSetsGive) {
    AnswerCache cache({});
    auto t0 = Clock::now();
    ClientQuery query = client_query("allowed.test");
    cache.insert(query, reply_for(query, {"allowed.test. 3600 IN A 1.2.3.4"}), t0, t0 + seconds(20));
    auto hit = cache.lookup(query, 512, t0 + seconds(5));
    ASSERT_TRUE(hit);
    // The client may cache it for what the entry has left (15 s), not for the record's 3595 s.
    EXPECT_EQ(answer_ttls(*hit), std::vector<std::uint32_t>{15});
    EXPECT_TRUE(cache.lookup(query, 512, t0 + milliseconds(19999)));
    EXPECT_FALSE(cache.lookup(query, 512, t0 + seconds(20)));
}

TEST(DnsAnswerCache, EachHitCarriesTheClientsIdFlagAndNameCase) {
    AnswerCache cache({});
    auto t0 = Clock::now();
    ClientQuery first = client_query("allowed.test", 0x1111, true);
    cache.insert(first, reply_for(first, {"allowed.test. 60 IN A 1.2.3.4"}), t0, forever);
    ClientQuery second = client_query("AlLoWeD.TEST", 0xbeef, false);
    auto hit = cache.lookup(second, 512, t0 + seconds(1));
    ASSERT_TRUE(hit);
    Packet reply = parse(*hit);
    EXPECT_EQ(ldns_pkt_id(reply.get()), 0xbeef);
    EXPECT_FALSE(ldns_pkt_rd(reply.get()));
    EXPECT_TRUE(ldns_pkt_qr(reply.get()));
    const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(reply.get()), 0);
    char *text = ldns_rdf2str(ldns_rr_owner(q));
    EXPECT_STREQ(text, "AlLoWeD.TEST.");
    std::free(text);
    EXPECT_EQ(answer_ttls(*hit), std::vector<std::uint32_t>{59});
}

TEST(DnsAnswerCache, KeysOnTypeAndEdns) {
    AnswerCache cache({});
    auto t0 = Clock::now();
    ClientQuery plain = client_query("allowed.test");
    cache.insert(plain, reply_for(plain, {"allowed.test. 60 IN A 1.2.3.4"}), t0, forever);
    EXPECT_FALSE(cache.lookup(client_query("allowed.test", 1, true, 1232), 1232, t0)) << "EDNS is another entry";
    EXPECT_FALSE(cache.lookup(client_query("allowed.test", 1, true, 0, LDNS_RR_TYPE_AAAA), 512, t0));
    EXPECT_FALSE(cache.lookup(client_query("other.test"), 512, t0));
    EXPECT_TRUE(cache.lookup(client_query("allowed.test", 9), 512, t0));
    EXPECT_FALSE(cache.lookup(plain, 20, t0)) << "larger than the client takes: asked upstream instead";
}

TEST(DnsAnswerCache, KeepsOnlyPositiveAnswersWithALife) {
    AnswerCache cache({});
    auto t0 = Clock::now();
    ClientQuery query = client_query("allowed.test");
    cache.insert(query, reply_for(query, {}), t0, forever);
    cache.insert(query, reply_for(query, {"allowed.test. 60 IN A 1.2.3.4"}, LDNS_RCODE_SERVFAIL), t0, forever);
    cache.insert(query, reply_for(query, {"allowed.test. 0 IN A 1.2.3.4"}), t0, forever);
    cache.insert(query, reply_for(query, {"allowed.test. 60 IN A 1.2.3.4"}), t0, t0);
    EXPECT_EQ(cache.size(), 0u);
    AnswerCache off({0, 1u << 20});
    off.insert(query, reply_for(query, {"allowed.test. 60 IN A 1.2.3.4"}), t0, forever);
    EXPECT_EQ(off.size(), 0u);
}

TEST(DnsAnswerCache, IsBoundedByEntriesAndBytes) {
    AnswerCache cache({3, 1u << 20});
    auto t0 = Clock::now();
    for (int i = 0; i < 5; ++i) {
        ClientQuery query = client_query("h" + std::to_string(i) + ".test");
        cache.insert(query, reply_for(query, {"h" + std::to_string(i) + ".test. 60 IN A 1.2.3.4"}), t0, forever);
    }
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.lookup(client_query("h0.test"), 512, t0)) << "the oldest went first";
    EXPECT_TRUE(cache.lookup(client_query("h4.test"), 512, t0));

    AnswerCache small({100, 2000});
    for (int i = 0; i < 20; ++i) {
        ClientQuery query = client_query("h" + std::to_string(i) + ".test");
        small.insert(query, reply_for(query, {"h" + std::to_string(i) + ".test. 60 IN A 1.2.3.4"}), t0, forever);
        EXPECT_LE(small.bytes(), 2000u);
    }
    EXPECT_GT(small.size(), 0u);
    EXPECT_LT(small.size(), 20u);
}

TEST(DnsAnswerCache, WhenFullExpiredEntriesGoBeforeTheOldest) {
    AnswerCache cache({3, 1u << 20});
    auto t0 = Clock::now();
    auto put = [&](const std::string &name, int ttl, Clock::time_point at) {
        ClientQuery query = client_query(name);
        cache.insert(query, reply_for(query, {name + ". " + std::to_string(ttl) + " IN A 1.2.3.4"}), at, forever);
    };
    put("old.test", 60, t0);
    put("short.test", 1, t0);
    put("young.test", 60, t0);
    put("new.test", 60, t0 + std::chrono::seconds(2));  // short.test has expired by now
    auto later = t0 + std::chrono::seconds(2);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_TRUE(cache.lookup(client_query("old.test"), 512, later)) << "the expired entry went, not the oldest";
    EXPECT_TRUE(cache.lookup(client_query("young.test"), 512, later));
    EXPECT_TRUE(cache.lookup(client_query("new.test"), 512, later));
    EXPECT_FALSE(cache.lookup(client_query("short.test"), 512, later));

    put("newer.test", 60, later);  // nothing has expired: the oldest goes
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_FALSE(cache.lookup(client_query("old.test"), 512, later));
    EXPECT_TRUE(cache.lookup(client_query("newer.test"), 512, later));
}

}  // namespace
}  // namespace rustyolo::dns
