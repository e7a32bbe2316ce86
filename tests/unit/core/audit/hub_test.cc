#include "core/audit/hub.hpp"

#include "core/audit/record.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rustyolo {
namespace {

namespace json = boost::json;

std::string fixture(const std::string &name) { return std::string(RUSTYOLO_TEST_FIXTURE_DIR) + "/" + name + ".so"; }

// The fixture-good plugin's audit sink hands every record it gets back through the host's audit
// callback: what it received is what `received` holds.
struct HubTest : ::testing::Test {
    std::vector<json::object> received;
    PluginRegistry registry{HostServices{"host", [this](const std::string &, const json::object &e) {
                                             received.push_back(e);
                                         }}};
    void SetUp() override { registry.load(fixture("good"), false); }
};

std::string wire(const char *layer, const char *verdict, const char *event, json::object details) {
    return json::serialize(audit::make_record(layer, verdict, event, std::move(details)));
}

TEST_F(HubTest, StampsSchemaSessionAndSequence) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    h.wire_line(wire("dns", "block", "query", {{"name", "x.test"}, {"qtype", "TXT"}}), false);
    h.host_record("mount", "block", "refused", {{"source", "~/.ssh"}});
    ASSERT_EQ(received.size(), 2u);
    EXPECT_EQ(received[0].at("schema"), audit::kSchema);
    EXPECT_EQ(received[0].at("session"), "abc123");
    EXPECT_EQ(received[0].at("seq"), 1);
    EXPECT_EQ(received[1].at("seq"), 2);
    EXPECT_EQ(h.locations(), std::vector<std::string>{"nowhere"});
}

TEST_F(HubTest, RefusesMalformedAndForgedLinesAndReportsTheCount) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    h.wire_line("not json", false);
    h.wire_line(R"({"time":"2026-01-01T00:00:00.000Z","layer":"dns","verdict":"block","event":"query","details":{},"session":"forged"})", false);
    h.wire_line(wire("kernel", "block", "x", {}), false);
    h.wire_line(std::string(100, 'x'), true);
    EXPECT_TRUE(received.empty());
    h.finish(0, "connection lost");
    ASSERT_EQ(received.size(), 2u);
    EXPECT_EQ(received[0].at("event"), "transport");
    EXPECT_EQ(received[0].at("details").at("count"), 4);
    EXPECT_EQ(received[1].at("event"), "exit");
    EXPECT_EQ(received[1].at("details").at("reason"), "connection lost");
}

TEST_F(HubTest, CountsBlockedRecordsAndSuppressedCountsExactly) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    json::object packet{{"destination", "10.1.2.3"}, {"port", 22}, {"protocol", "tcp"}};
    for (int i = 0; i < 3; ++i)
        h.wire_line(wire("network", "block", "packet", packet), false);
    h.wire_line(wire("lifecycle", "info", "suppressed",
                     {{"counts", {{"block", {{"10.1.2.3:22/tcp", 97}}}, {"allow", {{"dns A a.test", 5}}}}}}),
                false);
    h.wire_line(wire("lifecycle", "info", "exit", {{"exit_code", 0}, {"reason", "agent exited"}}), false);
    h.finish(0, "connection lost");
    EXPECT_EQ(h.blocked_counts(), (std::map<std::string, std::uint64_t>{{"10.1.2.3:22/tcp", 100}}));
    // The supervisor's exit record arrived: the host writes no second one.
    int exits = 0;
    for (const auto &r : received)
        exits += r.at("event") == "exit";
    EXPECT_EQ(exits, 1);
}

// A line the host refuses still counts for what it held, as far as it can be read: a suppressed
// record's "total" (first in its details, so a line cut at the limit keeps it), or one record of
// the verdict it names. Only a line of which not even that can be read is "unknown".
TEST_F(HubTest, RefusedLinesAreCountedForWhatTheyHeld) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    json::object keys;
    for (int port = 0; port < 2000; ++port)
        keys["10.1.2.3:" + std::to_string(port) + "/udp"] = 3;
    const std::string huge =
        wire("lifecycle", "info", "suppressed",
             {{"total", {{"block", 6000}, {"info", 2}}}, {"counts", {{"block", keys}, {"info", {{"lifecycle x", 2}}}}}});
    ASSERT_GT(huge.size(), audit::kMaxWireLine);
    h.wire_line(std::string_view(huge).substr(0, audit::kMaxWireLine), true);  // as SessionSocket cuts it
    // A record with a forged field: refused, but it was one blocked packet.
    h.wire_line(R"({"time":"2026-01-01T00:00:00.000Z","layer":"network","verdict":"block","event":"packet","details":{},"seq":7})",
                false);
    h.wire_line("not json at all", false);
    h.finish(0, "connection lost");
    EXPECT_EQ(h.blocked_counts(), (std::map<std::string, std::uint64_t>{{"lifecycle refused", 6001}}));
    ASSERT_FALSE(received.empty());
    const json::object &transport = received[0].at("details").as_object();
    EXPECT_EQ(received[0].at("event"), "transport");
    EXPECT_EQ(transport.at("count"), 3);
    EXPECT_EQ(transport.at("events").at("block"), 6001);
    EXPECT_EQ(transport.at("events").at("info"), 2);
    EXPECT_EQ(transport.at("unknown"), 1);
}

// The twin: the same counts in lines that fit are taken by key, and nothing is refused.
TEST_F(HubTest, SuppressedLinesThatFitAreCountedByKeyWithTheirLost) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    h.wire_line(wire("lifecycle", "info", "suppressed",
                     {{"total", {{"block", 12}}}, {"lost", {{"block", 2}}}, {"counts", {{"block", {{"10.1.2.3:1/udp", 10}}}}}}),
                false);
    h.wire_line(wire("network", "block", "lost", {{"count", 5}}), false);
    h.finish(0, "connection lost");
    EXPECT_EQ(h.blocked_counts(),
              (std::map<std::string, std::uint64_t>{{"10.1.2.3:1/udp", 10}, {"lifecycle lost", 2}, {"lost", 5}}));
    for (const auto &r : received)
        EXPECT_NE(r.at("event"), "transport");
}

// A refused line that stood for several events (a network "lost" record with a field too many)
// is counted with its weight under "lifecycle refused", not as one.
TEST_F(HubTest, ARefusedLostLineCountsItsWeight) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    json::object record = audit::make_record("network", "block", "lost", {{"count", 40}});
    record["extra"] = 1;
    h.wire_line(json::serialize(record), false);
    h.finish(0, "connection lost");
    EXPECT_EQ(h.blocked_counts(), (std::map<std::string, std::uint64_t>{{"lifecycle refused", 40}}));
}

// A complete refused line whose weighted record lacks its weight field stood for one event, not for
// an unknown number (its field was not cut off: it was never there).
TEST_F(HubTest, ARefusedCompleteWeightedLineWithoutItsFieldCountsOne) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    h.wire_line(R"({"time":"2026-01-02T03:04:09.000Z","layer":"resource","verdict":"block","event":"pids_limit",)"
                R"("d.etails":{"new":3}})",
                false);
    h.finish(0, "agent exited");
    EXPECT_EQ(h.blocked_counts(), (std::map<std::string, std::uint64_t>{{"lifecycle refused", 1}}));
}

// A long flood of distinct keys (each interval's 1024 are new) must not grow the host's memory
// without end: the exact counts keep a bounded number of keys, and the total stays exact.
TEST_F(HubTest, ExactCountsKeepBoundedKeysAndAnExactTotal) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    std::uint64_t sent = 0;
    for (int line = 0; line < 30; ++line) {
        json::object keys;
        for (int k = 0; k < 1000; ++k)
            keys["10." + std::to_string(line) + "." + std::to_string(k / 250) + "." + std::to_string(k % 250) + ":53/udp"] = 2;
        keys["dns A x" + std::to_string(line) + ".test"] = 1;
        sent += 2001;
        h.wire_line(wire("lifecycle", "info", "suppressed", {{"total", {{"block", 2001}}}, {"counts", {{"block", keys}}}}),
                    false);
    }
    h.finish(0, "x");
    const auto counts = h.blocked_counts();
    EXPECT_LE(counts.size(), AuditHub::kMaxBlockedKeys + 4);
    std::uint64_t total = 0;
    for (const auto &[key, n] : counts)
        total += n;
    EXPECT_EQ(total, sent);
    EXPECT_GT(counts.at("*:*/udp"), 0u);
    EXPECT_EQ(counts.at("10.0.0.0:53/udp"), 2u);  // the first keys keep their detail
}

TEST_F(HubTest, TheFileSinkIsToldItsCap) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}),
               AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log", 1234567});
    h.host_record("mount", "block", "refused", {{"source", "~/.ssh"}});
    h.finish(0, "x");
    EXPECT_TRUE(h.opened());  // the fixture takes the session object; the field is checked by audit-file's tests
}

TEST_F(HubTest, LevelsFilterOnTheHostToo) {
    AuditHub basic(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "basic", "/x", "/dev/log"});
    basic.wire_line(wire("dns", "allow", "query", {{"name", "a.test"}, {"qtype", "A"}}), false);
    EXPECT_TRUE(received.empty());
    EXPECT_FALSE(basic.opened());
    AuditHub verbose(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "verbose", "/x", "/dev/log"});
    verbose.wire_line(wire("dns", "allow", "query", {{"name", "a.test"}, {"qtype", "A"}}), false);
    EXPECT_EQ(received.size(), 1u);
    AuditHub none(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "none", "/x", "/dev/log"});
    none.wire_line(wire("dns", "block", "query", {{"name", "a.test"}, {"qtype", "TXT"}}), false);
    none.host_record("mount", "block", "refused", {});
    none.finish(0, "x");
    EXPECT_EQ(received.size(), 1u);
}

TEST_F(HubTest, NoRecordsMeansNoSessionOpened) {
    AuditHub h(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "basic", "/x", "/dev/log"});
    h.finish(2, "refused");
    EXPECT_FALSE(h.opened());
    EXPECT_TRUE(received.empty());
}

TEST_F(HubTest, ASinkThatCannotOpenClosesTheOnesOpenedBeforeIt) {
    registry.load(fixture("closing_sink"), false);
    registry.load(fixture("throws"), false);
    AuditHub h(find_audit_sinks(registry, {"fixture-closing-sink", "fixture-throws"}),
               AuditSessionInfo{"abc123", "exec", "basic", "/x", "/dev/log"});
    EXPECT_THROW(h.host_record("mount", "block", "refused", {{"source", "~/.ssh"}}), Error);
    ASSERT_EQ(received.size(), 1u) << "the first sink got no record, and was closed";
    const json::value *closed = received[0].if_contains("fixture_closed");
    ASSERT_NE(closed, nullptr);
    EXPECT_TRUE(closed->as_object().at("exit_code").is_null()) << "the session never ran";
    h.finish(2, "refused");
    EXPECT_EQ(received.size(), 1u) << "nothing is closed twice";
}

TEST_F(HubTest, UnknownSinkIsAUsageErrorListingTheSinks) {
    try {
        find_audit_sinks(registry, {"kafka"});
        FAIL();
    } catch (const UsageError &e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("\"kafka\""), std::string::npos) << m;
        EXPECT_NE(m.find("fixture-good"), std::string::npos) << m;
    }
}

}  // namespace
}  // namespace rustyolo
