#include "plugins/dns-filter/blocked_answer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace rustyolo::dns {
namespace {

using net::feed::DenyReason;

ClientQuery query_for(const std::string &name, ldns_rr_type type) {
    ldns_pkt *packet = ldns_pkt_new();
    ldns_rr *question = ldns_rr_new();
    ldns_rr_set_owner(question, ldns_dname_new_frm_str(name.c_str()));
    ldns_rr_set_type(question, type);
    ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
    ldns_rr_set_question(question, true);
    ldns_pkt_push_rr(packet, LDNS_SECTION_QUESTION, question);
    std::uint8_t *data = nullptr;
    std::size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&data, packet, &size), LDNS_STATUS_OK);
    ldns_pkt_free(packet);
    auto query = parse_client_query(data, size);
    std::free(data);
    EXPECT_TRUE(query);
    return std::move(*query);
}

TEST(DnsFilterBlockedAnswer, ANameNotAllowedIsNxdomainNamingTheCommandThatAllowsIt) {
    BlockedAnswer answer = blocked_answer(query_for("Registry.NPMjs.org.", LDNS_RR_TYPE_A), DenyReason::name);
    EXPECT_EQ(answer.rcode, LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer.text, "rustyolo sandbox: registry.npmjs.org is not in the allow list; ask the user to run: "
                           "rustyolo allow registry.npmjs.org");
    EXPECT_EQ(answer.short_text.find("registry"), std::string::npos);
}

TEST(DnsFilterBlockedAnswer, ANameThatCanNeverMatchDoesNotSuggestAllowingIt) {
    BlockedAnswer answer = blocked_answer(query_for("a\\000b.test.", LDNS_RR_TYPE_A), DenyReason::name);
    EXPECT_EQ(answer.rcode, LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer.text.find("rustyolo allow"), std::string::npos);
    EXPECT_NE(answer.text.find("can never be allowed"), std::string::npos);
}

TEST(DnsFilterBlockedAnswer, ATypeThatIsNotForwardedIsNodataNamingTheType) {
    BlockedAnswer answer = blocked_answer(query_for("allowed.test.", LDNS_RR_TYPE_TXT), DenyReason::type);
    EXPECT_EQ(answer.rcode, LDNS_RCODE_NOERROR);
    EXPECT_NE(answer.text.find("(this one: TXT)"), std::string::npos);
}

TEST(DnsFilterBlockedAnswer, AClassOtherThanInIsRefused) {
    BlockedAnswer answer = blocked_answer(query_for("allowed.test.", LDNS_RR_TYPE_A), DenyReason::qclass);
    EXPECT_EQ(answer.rcode, LDNS_RCODE_REFUSED);
    EXPECT_FALSE(answer.text.empty());
}

}  // namespace
}  // namespace rustyolo::dns
