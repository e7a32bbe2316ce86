// The DNS filter's decision on a client's query (decide_query), before the cache and the upstream.
#include "plugins/dns-filter/server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo::dns {
namespace {

using Action = QueryDecision::Action;

FilterConfig config(Mode mode = Mode::filter) {
    FilterConfig c;
    c.mode = mode;
    c.allow.add("allowed.test", {443});
    c.allow.add("*.wild.test", {80, 443});
    return c;
}

// A query as a client sends it: one question unless `questions` is 0 or 2.
ClientQuery query(const std::string &name, ldns_rr_type type = LDNS_RR_TYPE_A,
                  ldns_rr_class qclass = LDNS_RR_CLASS_IN, int questions = 1,
                  ldns_pkt_opcode opcode = LDNS_PACKET_QUERY) {
    ldns_pkt *packet = ldns_pkt_new();
    ldns_pkt_set_id(packet, 7);
    ldns_pkt_set_opcode(packet, opcode);
    for (int i = 0; i < questions; ++i) {
        ldns_rr *q = ldns_rr_new();
        ldns_rr_set_owner(q, ldns_dname_new_frm_str(name.c_str()));
        ldns_rr_set_type(q, type);
        ldns_rr_set_class(q, qclass);
        ldns_rr_set_question(q, true);
        ldns_pkt_push_rr(packet, LDNS_SECTION_QUESTION, q);
    }
    Bytes wire = packet_wire(packet);
    ldns_pkt_free(packet);
    std::optional<ClientQuery> parsed = parse_client_query(wire.data(), wire.size());
    EXPECT_TRUE(parsed.has_value());
    return std::move(*parsed);
}

TEST(DecideQuery, ForwardsAnAllowedNameWithItsPorts) {
    QueryDecision d = decide_query(query("allowed.test"), config());
    EXPECT_EQ(d.action, Action::forward);
    EXPECT_EQ(d.ports, (std::vector<std::uint16_t>{443}));
    d = decide_query(query("Api.Wild.Test.", LDNS_RR_TYPE_AAAA), config());
    EXPECT_EQ(d.action, Action::forward);
    EXPECT_EQ(d.ports, (std::vector<std::uint16_t>{80, 443}));
}

TEST(DecideQuery, RefusesOtherNamesTypesAndClassesWithTheReason) {
    QueryDecision d = decide_query(query("wild.test"), config());
    EXPECT_EQ(d.action, Action::refuse);
    EXPECT_EQ(d.reason, feed::DenyReason::name);
    d = decide_query(query("allowed.test", LDNS_RR_TYPE_TXT), config());
    EXPECT_EQ(d.action, Action::refuse);
    EXPECT_EQ(d.reason, feed::DenyReason::type);
    d = decide_query(query("allowed.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH), config());
    EXPECT_EQ(d.action, Action::refuse);
    EXPECT_EQ(d.reason, feed::DenyReason::qclass);
}

TEST(DecideQuery, ModeAnyForwardsEveryNameWithTheDefaultPorts) {
    QueryDecision d = decide_query(query("other.test", LDNS_RR_TYPE_TXT), config(Mode::any));
    EXPECT_EQ(d.action, Action::forward);
    EXPECT_EQ(d.ports, (std::vector<std::uint16_t>{80, 443}));
    EXPECT_EQ(decide_query(query("other.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH), config(Mode::any)).action,
              Action::refuse);
}

TEST(DecideQuery, AnswersMalformedQueriesWithoutAsking) {
    EXPECT_EQ(decide_query(query("allowed.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 2), config()).action,
              Action::formerr);
    EXPECT_EQ(decide_query(query("allowed.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0), config()).action,
              Action::formerr);
    EXPECT_EQ(decide_query(query("allowed.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1, LDNS_PACKET_STATUS), config())
                  .action,
              Action::notimpl);
}

}  // namespace
}  // namespace rustyolo::dns
