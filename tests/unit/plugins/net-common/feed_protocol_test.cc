#include "plugins/net-common/feed_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo::net::feed {
namespace {

TEST(DnsFilterFeed, FormatsAddressLinesThatParseBack) {
    AnswerAddress v4{false, "1.2.3.4", 300, {80, 443}};
    EXPECT_EQ(format_address(7, v4), "7 4 1.2.3.4 300 80,443\n");
    std::string line = format_address(7, v4);
    EventLine parsed = parse_event_line(line.substr(0, line.size() - 1));
    EXPECT_EQ(parsed.kind, EventLine::Kind::address);
    EXPECT_EQ(parsed.id, 7u);
    EXPECT_EQ(parsed.address, v4);

    AnswerAddress v6{true, "2001:db8::1", 0, {443}};
    line = format_address(4294967295u, v6);
    parsed = parse_event_line(line.substr(0, line.size() - 1));
    EXPECT_EQ(parsed.id, 4294967295u);
    EXPECT_EQ(parsed.address, v6);
}

EventLine parse_formatted(const std::string &line) { return parse_event_line(line.substr(0, line.size() - 1)); }

TEST(DnsFilterFeed, ParsesReadyEndDenyAndAllow) {
    EXPECT_EQ(parse_event_line("ready").kind, EventLine::Kind::ready);
    EventLine end = parse_event_line("12 end api.allowed.test");
    EXPECT_EQ(end.kind, EventLine::Kind::end);
    EXPECT_EQ(end.id, 12u);
    EXPECT_EQ(end.name, "api.allowed.test");
    EventLine deny = parse_event_line("deny TXT tcp type x.allowed.test");
    EXPECT_EQ(deny.kind, EventLine::Kind::deny);
    EXPECT_EQ(deny.query, (QueryReport{"TXT", true, "x.allowed.test"}));
    EXPECT_EQ(deny.reason, DenyReason::type);
    EXPECT_EQ(parse_event_line("deny A udp name x.blocked.test").reason, DenyReason::name);
    EXPECT_EQ(parse_event_line("deny A udp class x.test").reason, DenyReason::qclass);
    EventLine allow = parse_event_line("allow AAAA udp allowed.test");
    EXPECT_EQ(allow.kind, EventLine::Kind::allow);
    EXPECT_EQ(allow.query, (QueryReport{"AAAA", false, "allowed.test"}));
    EXPECT_EQ(parse_event_line("deny TYPE65280 udp type x.test").query.qtype, "TYPE65280");
    EXPECT_EQ(parse_event_line("deny NSAP-PTR udp type x.test").query.qtype, "NSAP-PTR");
}

TEST(DnsFilterFeed, FormattedQueryLinesParseBack) {
    EXPECT_EQ(format_deny("TXT", 16, false, DenyReason::type, "X.Allowed.Test"), "deny TXT udp type x.allowed.test\n");
    EXPECT_EQ(format_allow("A", 1, true, "allowed.test"), "allow A tcp allowed.test\n");
    EXPECT_EQ(format_end(3, "Api.Test"), "3 end api.test\n");
    EXPECT_EQ(parse_formatted(format_deny("CAA", 257, true, DenyReason::name, "a.b")).query,
              (QueryReport{"CAA", true, "a.b"}));
    // A mnemonic outside the alphabet is replaced by the number.
    EXPECT_EQ(format_deny("bad type", 99, false, DenyReason::type, "x"), "deny TYPE99 udp type x\n");
    EXPECT_EQ(format_allow("", 7, false, "x"), "allow TYPE7 udp x\n");
}

TEST(DnsFilterFeed, NamesAreSanitisedByTheFilter) {
    EXPECT_EQ(format_deny("A", 1, false, DenyReason::name, "EVIL\n.Name \x01;rm"),
              "deny A udp name evil?.name???rm\n");
    EXPECT_EQ(format_deny("A", 1, false, DenyReason::name, ""), "deny A udp name .\n");
    EXPECT_EQ(format_deny("A", 1, false, DenyReason::name, std::string(400, 'a')),
              "deny A udp name " + std::string(253, 'a') + "\n");
    EXPECT_NO_THROW(parse_formatted(format_deny("AAAA", 28, false, DenyReason::name, "Weird Name.test")));
    EXPECT_NO_THROW(parse_formatted(format_end(1, "We\x01rd")));
    EXPECT_NO_THROW(parse_formatted(format_allow("A", 1, false, std::string(300, 'Z'))));
}

// Every line the supervisor must refuse, with what makes it wrong.
TEST(DnsFilterFeed, RejectsMalformedLines) {
    const std::vector<std::string> bad = {
        "",                                    // empty
        " ",                                   // only a separator
        "ready ",                              // trailing space
        " ready",                              // leading space
        "READY",                               // case matters
        "ready now",                           // extra field
        "1  4 1.2.3.4 300 443",                // double space
        "1\t4 1.2.3.4 300 443",                // tab
        "1 4 1.2.3.4 300 443 ",                // trailing space
        "1 4 1.2.3.4 300",                     // missing ports
        "1 4 1.2.3.4 300 443 extra",           // extra field
        "01 4 1.2.3.4 300 443",                // leading zero id
        "-1 4 1.2.3.4 300 443",                // negative id
        "4294967296 4 1.2.3.4 300 443",        // id overflow
        "99999999999 4 1.2.3.4 300 443",       // id too long
        "x 4 1.2.3.4 300 443",                 // id not a number
        "1 5 1.2.3.4 300 443",                 // bad family
        "1 6 1.2.3.4 300 443",                 // v4 address as v6
        "1 4 2001:db8::1 300 443",             // v6 address as v4
        "1 4 1.2.3 300 443",                   // short address
        "1 4 1.2.3.4.5 300 443",               // long address
        "1 4 01.2.3.4 300 443",                // leading zero octet (not canonical)
        "1 4 256.2.3.4 300 443",               // octet overflow
        "1 4 1.2.3.4/32 300 443",              // prefix
        "1 6 2001:DB8::1 300 443",             // not canonical (upper case)
        "1 6 2001:db8:0:0:0:0:0:1 300 443",    // not canonical (uncompressed)
        "1 6 fe80::1%eth0 300 443",            // scope
        "1 4 1.2.3.4 -1 443",                  // negative ttl
        "1 4 1.2.3.4 4294967296 443",          // ttl overflow
        "1 4 1.2.3.4 030 443",                 // ttl leading zero
        "1 4 1.2.3.4 3e2 443",                 // ttl not decimal
        "1 4 1.2.3.4 300 0",                   // port 0
        "1 4 1.2.3.4 300 65536",               // port overflow
        "1 4 1.2.3.4 300 0443",                // port leading zero
        "1 4 1.2.3.4 300 443,80",              // ports not increasing
        "1 4 1.2.3.4 300 443,443",             // duplicate port
        "1 4 1.2.3.4 300 80,",                 // empty port
        "1 4 1.2.3.4 300 ,80",                 // empty port
        "1 4 1.2.3.4 300 80;443",              // wrong separator
        "1 4 1.2.3.4 300 80 443",              // ports as fields
        "1 end",                               // end without name
        "1 end a b",                           // extra field
        "1 end A.test",                        // upper case name
        "1 end " + std::string(254, 'a'),      // name too long
        "end",                                 // end without id
        "1 END",                               // case
        "1 4 1.2.3.4 300 443\r",               // carriage return
        std::string("1 4 1.2.3.4 300 443\0", 20),  // NUL byte
        "1 4 1.2.3.4 300 4\xc3\xa4" "3",        // non-ASCII
        "deny",                                // deny without fields
        "deny A udp name",                     // deny without name
        "deny 16 x.test",                      // the old numeric form
        "deny A udp x.test",                   // no reason
        "deny a udp name x.test",              // lower case type
        "deny 1A udp name x.test",             // type not starting with a letter
        "deny ABCDEFGHIJKLMNOPQ udp name x.test",  // type too long
        "deny A;B udp name x.test",            // bad type character
        "deny A sctp name x.test",             // protocol
        "deny A UDP name x.test",              // protocol case
        "deny A udp why x.test",               // reason
        "deny A udp name X.test",              // upper case name
        "deny A udp name x test",              // extra field
        "deny A udp name x;rm.test",           // bad character
        "deny A udp name " + std::string(254, 'a'),  // name too long
        "allow A udp",                         // allow without name
        "allow A udp name x.test",             // allow with a reason
        "allow A x.test",                      // allow without protocol
        std::string(600, 'a'),                 // too long
    };
    for (const std::string &line : bad) {
        SCOPED_TRACE(testing::PrintToString(line));
        EXPECT_THROW(parse_event_line(line), FeedError);
    }
}

TEST(DnsFilterFeed, ManyPortsAreCapped) {
    std::string ports;
    for (int port = 1; port <= 64; ++port)
        ports += (ports.empty() ? "" : ",") + std::to_string(port);
    EXPECT_NO_THROW(parse_event_line("1 4 1.2.3.4 300 " + ports));
    EXPECT_THROW(parse_event_line("1 4 1.2.3.4 300 " + ports + ",65"), FeedError);
}

TEST(DnsFilterFeed, AcksRoundTrip) {
    EXPECT_EQ(format_ack(5, true, 30), "5 ok 30\n");
    EXPECT_EQ(format_ack(5, false), "5 fail\n");
    auto ack = parse_ack("5 ok 30");
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->id, 5u);
    EXPECT_TRUE(ack->ok);
    EXPECT_EQ(ack->life, 30u);
    EXPECT_EQ(parse_ack("5 ok 0")->life, 0u);
    EXPECT_FALSE(parse_ack("5 fail")->ok);
    for (const char *bad : {"", "5", "5 ok", "5 OK 1", "x ok 1", "5  ok 1", "5 ok 1 ", "05 ok 1", "5 ok 01",
                            "5 ok -1", "5 ok 4294967296", "5 fail 1"})
        EXPECT_FALSE(parse_ack(bad)) << bad;
}

TEST(DnsFilterFeed, SplitterYieldsCompleteLinesAcrossChunks) {
    LineSplitter splitter;
    splitter.feed("rea");
    EXPECT_FALSE(splitter.next());
    splitter.feed("dy\n1 end\n2 e");
    EXPECT_EQ(splitter.next()->line, "ready");
    EXPECT_EQ(splitter.next()->line, "1 end");
    EXPECT_FALSE(splitter.next());
    splitter.feed("nd\n");
    EXPECT_EQ(splitter.next()->line, "2 end");
}

TEST(DnsFilterFeed, SplitterReportsAnOverlongLineOnceAndResynchronises) {
    LineSplitter splitter;
    splitter.feed(std::string(300, 'x'));
    splitter.feed(std::string(300, 'x'));
    EXPECT_FALSE(splitter.next());
    splitter.feed("yyy\nready\n");
    auto overlong = splitter.next();
    ASSERT_TRUE(overlong);
    EXPECT_TRUE(overlong->overlong);
    auto next = splitter.next();
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->overlong);
    EXPECT_EQ(next->line, "ready");
}

}  // namespace
}  // namespace rustyolo::net::feed

namespace rustyolo::net::feed {
namespace {

TEST(FeedProtocolPolicy, PolicyLinesRoundTrip) {
    std::string line = format_policy(7, "*.example.com", {80, 443});
    EXPECT_EQ(line, "policy 7 *.example.com 80,443\n");
    line.pop_back();
    std::optional<PolicyChange> change = parse_policy(line);
    ASSERT_TRUE(change);
    EXPECT_EQ(change->seq, 7u);
    EXPECT_EQ(change->entry, "*.example.com");
    EXPECT_EQ(change->ports, (std::vector<std::uint16_t>{80, 443}));
    std::optional<PolicyChange> gone = parse_policy("policy 8 api.test -");
    ASSERT_TRUE(gone);
    EXPECT_TRUE(gone->ports.empty());
}

TEST(FeedProtocolPolicy, AnAckIsNoPolicyLineAndAMalformedPolicyLineThrows) {
    EXPECT_FALSE(parse_policy("3 ok 60"));
    EXPECT_THROW(parse_policy("policy 1 bad name 443"), FeedError);
    EXPECT_THROW(parse_policy("policy 1 BAD.test 443"), FeedError);
    EXPECT_THROW(parse_policy("policy x a.test 443"), FeedError);
    EXPECT_THROW(parse_policy("policy 1 a.test 443,80"), FeedError);
}

TEST(FeedProtocolPolicy, TheFiltersConfirmationIsAnEvent) {
    std::string line = format_policy_done(12);
    line.pop_back();
    EventLine event = parse_event_line(line);
    EXPECT_EQ(event.kind, EventLine::Kind::policy_done);
    EXPECT_EQ(event.id, 12u);
    EXPECT_THROW(parse_event_line("policy 12 ok"), FeedError);
}

}  // namespace
}  // namespace rustyolo::net::feed
