#include "feed_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo::dns::feed {
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

TEST(DnsFilterFeed, ParsesReadyEndAndDeny) {
    EXPECT_EQ(parse_event_line("ready").kind, EventLine::Kind::ready);
    EventLine end = parse_event_line("12 end");
    EXPECT_EQ(end.kind, EventLine::Kind::end);
    EXPECT_EQ(end.id, 12u);
    EventLine deny = parse_event_line("deny 16 x.blocked.test");
    EXPECT_EQ(deny.kind, EventLine::Kind::deny);
    EXPECT_EQ(deny.qtype, 16);
    EXPECT_EQ(deny.name, "x.blocked.test");
}

TEST(DnsFilterFeed, DenyNamesAreSanitisedByTheFilter) {
    EXPECT_EQ(format_deny(1, "EVIL\n.Name \x01;rm"), "deny 1 evil?.name???rm\n");
    EXPECT_EQ(format_deny(1, ""), "deny 1 .\n");
    EXPECT_EQ(format_deny(1, std::string(400, 'a')), "deny 1 " + std::string(253, 'a') + "\n");
    std::string line = format_deny(28, "Weird Name.test");
    EXPECT_NO_THROW(parse_event_line(line.substr(0, line.size() - 1)));
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
        "1 end now",                           // extra field
        "end",                                 // end without id
        "1 END",                               // case
        "1 4 1.2.3.4 300 443\r",               // carriage return
        std::string("1 4 1.2.3.4 300 443\0", 20),  // NUL byte
        "1 4 1.2.3.4 300 4\xc3\xa4" "3",        // non-ASCII
        "deny",                                // deny without fields
        "deny 1",                              // deny without name
        "deny 65536 x.test",                   // qtype overflow
        "deny 1 X.test",                       // upper case name
        "deny 1 x test",                       // extra field
        "deny 1 x;rm.test",                    // bad character
        "deny 1 " + std::string(254, 'a'),     // name too long
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
    EXPECT_EQ(format_ack(5, true), "5 ok\n");
    EXPECT_EQ(format_ack(5, false), "5 fail\n");
    auto ack = parse_ack("5 ok");
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->id, 5u);
    EXPECT_TRUE(ack->ok);
    EXPECT_FALSE(parse_ack("5 fail")->ok);
    for (const char *bad : {"", "5", "5 OK", "x ok", "5  ok", "5 ok ", "05 ok"})
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
}  // namespace rustyolo::dns::feed
