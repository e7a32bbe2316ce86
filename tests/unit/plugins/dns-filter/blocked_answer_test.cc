#include "plugins/dns-filter/blocked_answer.hpp"

#include "plugins/net-common/allow_entry.hpp"

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

// The suggested command is only one that allows that name: a name the allow-entry parser refuses
// would make `rustyolo allow` fail, and a name spelt like an address ("1.2.3.4") would allow the
// raw address instead (a CIDR entry), on the sandbox's word that it is a name.
TEST(DnsFilterBlockedAnswer, ANameThatIsNoValidNameEntryDoesNotSuggestAnAllowCommand) {
    for (const char *name : {"1.2.3.4.", "10.0.0.1.", "localhost.", "_dmarc.example.com.", "-x.example.com.",
                             "x-.example.com.", "example.123."}) {
        BlockedAnswer answer = blocked_answer(query_for(name, LDNS_RR_TYPE_A), DenyReason::name);
        EXPECT_EQ(answer.rcode, LDNS_RCODE_NXDOMAIN) << name;
        EXPECT_EQ(answer.text.find("rustyolo allow"), std::string::npos) << name << ": " << answer.text;
        EXPECT_NE(answer.text.find("cannot be named in an allow entry"), std::string::npos) << name << ": " << answer.text;
    }
    // Twin: names the parser takes as they are (digits, '-' inside a label, many labels).
    for (const char *name : {"a-1.example.com.", "1e100.net.", "x.y.z.example.org."}) {
        BlockedAnswer answer = blocked_answer(query_for(name, LDNS_RR_TYPE_A), DenyReason::name);
        std::string plain(name, std::string(name).size() - 1);
        EXPECT_NE(answer.text.find("rustyolo allow " + plain), std::string::npos) << name << ": " << answer.text;
    }
}

// The filter's check agrees with the allow-entry parser (the CLI's) on every kind of plain name.
TEST(DnsFilterBlockedAnswer, TheSuggestionIsGivenExactlyForNamesTheParserTakesAsANameEntry) {
    const std::string long_label(63, 'a'), too_long_label(64, 'a');
    std::string longest;  // 253 characters: four labels of 63 and one of 1
    for (int i = 0; i < 4; ++i)
        longest += long_label + ".";
    longest += "b";
    for (const std::string &name :
         {std::string("example.com"), std::string("a-1.example.com"), std::string("1e100.net"), std::string("1.2.3.4"),
          std::string("1.2.3"), std::string("10.0.0.1"), std::string("localhost"), std::string("com"),
          std::string("_dmarc.example.com"), std::string("-x.example.com"), std::string("x-.example.com"),
          std::string("example.123"), std::string("123.example"), std::string("a--b.example.com"),
          long_label + ".com", too_long_label + ".com", longest, longest + "b", std::string("x.-")}) {
        bool parser_names_it = false;
        try {
            net::AllowEntry entry = net::parse_allow_entry(name, true);
            parser_names_it = entry.kind == "name" && entry.value == name;
        } catch (const std::exception &) {
        }
        EXPECT_EQ(names_an_allow_entry(name), parser_names_it) << name;
    }
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
