// What `rustyolo audit` makes of a session an audit sink read back: counts and safe display.
#include "core/audit/session_view.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo::audit_view {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

const char *kStart =
    R"({"schema":1,"time":"2026-01-02T03:04:05.000Z","session":"abc123","seq":1,"layer":"lifecycle","verdict":"info","event":"start","details":{"agent":"claude","level":"basic"}})";
const char *kBlock =
    R"({"schema":1,"time":"2026-01-02T03:04:06.000Z","session":"abc123","seq":2,"layer":"network","verdict":"block","event":"packet","details":{"protocol":"tcp","destination":"10.1.2.3","port":22,"name":null,"rule":"blocked_output"}})";
const char *kSuppressed =
    R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":3,"layer":"lifecycle","verdict":"info","event":"suppressed","details":{"counts":{"10.1.2.3:22/tcp":40,"lifecycle x":2}}})";
const char *kExit =
    R"({"schema":1,"time":"2026-01-02T03:04:08.000Z","session":"abc123","seq":4,"layer":"lifecycle","verdict":"info","event":"exit","details":{"exit_code":3,"signal":null,"reason":"agent exited"}})";

// A read answer of the audit hook for `lines`, as a sink gives it.
json::object answer_of(const std::vector<std::string> &lines, bool truncated = false) {
    json::array records;
    for (const auto &line : lines)
        records.push_back(json::parse(line));
    return json::object{{"session", "abc123"},     {"started", "2026-01-02T03-04-05.000Z"},
                        {"location", "/a/x.jsonl"}, {"records", std::move(records)},
                        {"offset", 0},             {"malformed_lines", 0},
                        {"truncated", truncated},  {"live", false}};
}

TEST(SessionView, SessionInfoHasAgentExitAndExactBlockedCount) {
    const auto session = session_from_answer(answer_of({kStart, kBlock, kSuppressed, kExit}));
    EXPECT_EQ(session.info.session, "abc123");
    EXPECT_EQ(session.info.agent, "claude");
    EXPECT_EQ(session.info.started, "2026-01-02T03:04:05.000Z");
    EXPECT_EQ(session.info.exit_code, 3);
    EXPECT_EQ(session.info.blocked, 41u);  // 1 record + 40 suppressed; lifecycle keys are not blocks
    EXPECT_EQ(session.records.size(), 4u);
    EXPECT_EQ(session.location, "/a/x.jsonl");
    EXPECT_FALSE(session.info.truncated);
    EXPECT_FALSE(session.info.live);
}

// The form the supervisor sends (verdict -> key -> n, with "lost"), a network "lost" record, a
// refused line's blocked events, and a capped file's "dropped" record with the host's exact total.
TEST(SessionView, BlockedCountReadsTheSchemasSuppressedFormLostAndTheCappedTotal) {
    const std::string nested =
        R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":3,"layer":"lifecycle","verdict":"info","event":"suppressed","details":{"total":{"block":52,"info":2},"lost":{"block":2},"counts":{"block":{"10.1.2.3:22/tcp":40,"10.1.2.3:*/udp":10},"info":{"lifecycle x":2}}}})";
    const std::string lost =
        R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":4,"layer":"network","verdict":"block","event":"lost","details":{"count":7}})";
    const std::string transport =
        R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":5,"layer":"lifecycle","verdict":"info","event":"transport","details":{"count":1,"events":{"block":100},"unknown":0}})";
    EXPECT_EQ(session_from_answer(answer_of({kStart, kBlock, nested, lost, transport, kExit})).info.blocked,
              1u + 52 + 7 + 100);
    const std::string dropped =
        R"({"schema":1,"time":"2026-01-02T03:04:08.000Z","session":"abc123","seq":9,"layer":"lifecycle","verdict":"info","event":"dropped","details":{"records":3,"blocked":5000}})";
    EXPECT_EQ(session_from_answer(answer_of({kStart, kBlock, kExit, dropped})).info.blocked, 5000u);
}

TEST(SessionView, WithoutRecordsTheSinksNamesAreUsedAndTruncationIsKept) {
    const auto session = session_from_answer(answer_of({}, true));
    EXPECT_EQ(session.info.session, "abc123");
    EXPECT_EQ(session.info.started, "2026-01-02T03-04-05.000Z");
    EXPECT_TRUE(session.info.truncated);
    EXPECT_FALSE(session.info.exit_code.has_value());
}

TEST(SessionView, AnAnswerWithoutRecordsIsRefused) {
    EXPECT_THROW(session_from_answer(json::object{{"session", "x"}}), std::runtime_error);
    EXPECT_THROW(session_from_answer(json::value("x")), std::runtime_error);
}

TEST(FormatRecord, ShowsTimeVerdictLayerKeyAndDetails) {
    const auto record = boost::json::parse(kBlock).as_object();
    EXPECT_EQ(format_record(record), "2026-01-02T03:04:06.000Z  block  network/packet  10.1.2.3:22/tcp  "
                                     "protocol=tcp  destination=10.1.2.3  port=22  rule=blocked_output");
}

TEST(FormatRecord, ControlCharactersFromTheContainerAreEscaped) {
    auto record = boost::json::parse(kBlock).as_object();
    record["details"].as_object()["name"] = "evil\x1b]0;pwned\x07.test";
    record["event"] = "pa\x1b[2Jcket";
    const std::string line = format_record(record);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    EXPECT_EQ(line.find('\x07'), std::string::npos);
    EXPECT_THAT(line, HasSubstr("evil\\x1b]0;pwned\\x07.test"));
}

}  // namespace
}  // namespace rustyolo::audit_view
