// RFC 5424 messages for audit records: header fields, priorities, and SD-PARAM escaping.
#include "plugins/audit-syslog/syslog_format.hpp"

#include <gtest/gtest.h>

namespace rustyolo::audit_syslog {
namespace {

namespace json = boost::json;

json::object record(std::string verdict = "block") {
    return json::object{{"schema", 1},          {"time", "2026-11-28T08:10:18.123Z"},
                        {"session", "0a1b2c"},  {"seq", 7},
                        {"layer", "network"},   {"verdict", verdict},
                        {"event", "packet"},    {"details", json::object{{"destination", "10.1.2.3"}}}};
}

TEST(SyslogFormat, WholeMessage) {
    EXPECT_EQ(format_message(record(), "builder", 4242),
              "<36>1 2026-11-28T08:10:18.123Z builder rustyolo 4242 network "
              "[rustyolo@32473 session=\"0a1b2c\" verdict=\"block\" event=\"packet\"] " +
                  json::serialize(record()));
}

TEST(SyslogFormat, BlockIsWarningAndTheRestInfoOnFacilityAuth) {
    EXPECT_EQ(priority("block"), 4 * 8 + 4);
    EXPECT_EQ(priority("allow"), 4 * 8 + 6);
    EXPECT_EQ(priority("info"), 4 * 8 + 6);
}

TEST(SyslogFormat, ParamValuesEscapeQuoteBackslashAndBracket) {
    EXPECT_EQ(escape_param_value(R"(a"b\c]d)"), R"(a\"b\\c\]d)");
    EXPECT_EQ(escape_param_value("plain"), "plain");
}

TEST(SyslogFormat, HostileSessionCannotCloseTheStructuredData) {
    auto r = record();
    r["session"] = "x\"] [forged@1 a=\"b";
    const std::string message = format_message(r, "h", 1);
    EXPECT_NE(message.find(R"(session="x\"\] [forged@1 a=\"b")"), std::string::npos) << message;
}

TEST(SyslogFormat, InvalidHeaderFieldsBecomeNil) {
    auto r = record();
    r["time"] = "yesterday";
    r["layer"] = "net work";
    const std::string message = format_message(r, "bad host", 0);
    EXPECT_EQ(message.rfind("<36>1 - - rustyolo - - [", 0), 0u) << message;
}

TEST(SyslogFormat, TimestampsThatRfc5424AllowsAreKept) {
    for (const char *time : {"2026-11-28T08:10:18Z", "2026-11-28T08:10:18.123456Z", "2026-11-28T08:10:18.1+02:00"}) {
        auto r = record();
        r["time"] = time;
        EXPECT_NE(format_message(r, "h", 1).find(std::string(" ") + time + " "), std::string::npos) << time;
    }
    auto r = record();
    r["time"] = "2026-11-28T08:10:18.1234567Z";  // 7 fraction digits: not allowed
    EXPECT_EQ(format_message(r, "h", 1).rfind("<36>1 - ", 0), 0u);
}

TEST(SyslogFormat, HeaderFieldLimits) {
    EXPECT_EQ(header_field(std::string(32, 'a'), 32), std::string(32, 'a'));
    EXPECT_EQ(header_field(std::string(33, 'a'), 32), "-");
    EXPECT_EQ(header_field("", 32), "-");
    EXPECT_EQ(header_field("caf\xc3\xa9", 32), "-");
}

}  // namespace
}  // namespace rustyolo::audit_syslog
