#include "core/audit/record.hpp"

#include <gtest/gtest.h>

namespace rustyolo::audit {
namespace {

namespace json = boost::json;

json::object packet(json::object details) { return make_record("network", "block", "packet", std::move(details)); }

TEST(AuditRecord, MadeRecordsPassTheWireCheck) {
    json::object r = make_record("dns", "block", "query", json::object{{"name", "x.test"}, {"qtype", "TXT"}});
    EXPECT_EQ(check_wire_record(r), std::nullopt);
    const std::string time(r.at("time").as_string());
    ASSERT_EQ(time.size(), 24u) << time;
    EXPECT_EQ(time[10], 'T');
    EXPECT_EQ(time.back(), 'Z');
}

TEST(AuditRecord, WireCheckRefusesEveryMalformedShape) {
    const json::object good = make_record("syscall", "block", "denied", json::object{});
    EXPECT_TRUE(check_wire_record(json::value("text")));
    for (const char *field : {"time", "layer", "verdict", "event", "details"}) {
        json::object r = good;
        r.erase(field);
        EXPECT_TRUE(check_wire_record(r)) << "without " << field;
    }
    auto with = [&](const char *field, json::value v) {
        json::object r = good;
        r[field] = std::move(v);
        return check_wire_record(r);
    };
    EXPECT_TRUE(with("layer", "kernel"));
    EXPECT_TRUE(with("verdict", "maybe"));
    EXPECT_TRUE(with("event", "Denied"));
    EXPECT_TRUE(with("event", ""));
    EXPECT_TRUE(with("event", "a\nb"));
    EXPECT_TRUE(with("details", json::array{}));
    EXPECT_TRUE(with("time", "yesterday"));
    EXPECT_TRUE(with("session", "forged"));  // the host stamps the session; a sixth field is refused
    EXPECT_TRUE(with("seq", 1));
}

TEST(AuditRecord, SummaryKeys) {
    EXPECT_EQ(summary_key(packet({{"destination", "10.1.2.3"}, {"port", 22}, {"protocol", "tcp"}})), "10.1.2.3:22/tcp");
    EXPECT_EQ(summary_key(packet({{"destination", "10.1.2.3"}, {"port", 443}, {"protocol", "tcp"}, {"name", "evil.test"}})),
              "evil.test:443/tcp");
    EXPECT_EQ(summary_key(packet({{"destination", "fd00::1"}, {"port", nullptr}, {"protocol", "icmpv6"}, {"name", nullptr}})),
              "fd00::1/icmpv6");
    EXPECT_EQ(summary_key(make_record("network", "block", "address", {{"destination", "169.254.169.254"}, {"name", "meta.test"}})),
              "address meta.test");
    EXPECT_EQ(summary_key(make_record("dns", "block", "query", {{"name", "x.test"}, {"qtype", "TXT"}})), "dns TXT x.test");
    EXPECT_EQ(summary_key(make_record("syscall", "block", "denied", {{"syscall", "mount"}})), "syscall mount");
    EXPECT_EQ(summary_key(make_record("mount", "block", "refused", {{"source", "~/.ssh"}})), "mount ~/.ssh");
    EXPECT_EQ(summary_key(make_record("resource", "block", "oom_kill", {})), "resource oom_kill");
    EXPECT_EQ(summary_key(make_record("lifecycle", "info", "exit", {})), "lifecycle exit");
    // Names come from the container: control bytes are escaped.
    EXPECT_EQ(summary_key(make_record("dns", "block", "query", {{"name", "a\x1b[2Jb"}, {"qtype", "A"}})),
              "dns A a\\x1b[2Jb");
}

TEST(AuditRecord, Levels) {
    EXPECT_FALSE(level_admits("none", "block"));
    EXPECT_FALSE(level_admits("none", "info"));
    EXPECT_TRUE(level_admits("basic", "block"));
    EXPECT_TRUE(level_admits("basic", "info"));
    EXPECT_FALSE(level_admits("basic", "allow"));
    EXPECT_TRUE(level_admits("verbose", "allow"));
}

TEST(Salvage, ACutSuppressedLineStillTellsItsTotal) {
    json::object keys;
    for (int i = 0; i < 3000; ++i)
        keys["k" + std::to_string(i)] = 1;
    const std::string line = json::serialize(make_record(
        "lifecycle", "info", "suppressed", json::object{{"total", {{"block", 3000}}}, {"counts", {{"block", keys}}}}));
    const Salvage cut = salvage_line(std::string_view(line).substr(0, 2000));
    EXPECT_EQ(cut.event, "suppressed");
    EXPECT_TRUE(cut.has_total);
    EXPECT_EQ(cut.total[0], 3000u);
    // A plain record: its verdict; a "total" in another event's details means nothing.
    const Salvage plain = salvage_line(json::serialize(
        make_record("network", "block", "packet", json::object{{"total", {{"block", 99}}}})));
    EXPECT_EQ(plain.verdict, "block");
    EXPECT_FALSE(plain.has_total);
    EXPECT_EQ(plain.total[0], 0u);
    const Salvage junk = salvage_line("\x00 not json");
    EXPECT_TRUE(junk.verdict.empty());
}

TEST(SummaryKey, CoarserKeysKeepAddressAndProtocol) {
    const json::object udp = make_record("network", "block", "packet",
                                         json::object{{"destination", "172.29.0.27"}, {"port", 4444}, {"protocol", "tcp"}});
    EXPECT_EQ(summary_key(udp), "172.29.0.27:4444/tcp");
    EXPECT_EQ(coarse_summary_key(udp), "172.29.0.27:*/tcp");
    EXPECT_EQ(catch_all_summary_key(udp), "*:*/tcp");
    const json::object icmp = make_record("network", "block", "packet",
                                          json::object{{"destination", "172.29.0.27"}, {"port", nullptr}, {"protocol", "icmp"}});
    EXPECT_EQ(coarse_summary_key(icmp), "*/icmp");
    const json::object dns = make_record("dns", "block", "query", json::object{{"name", "x1.evil.test"}, {"qtype", "TXT"}});
    EXPECT_EQ(coarse_summary_key(dns), "dns TXT *.evil.test");
    EXPECT_EQ(catch_all_summary_key(dns), "dns * *");
    EXPECT_EQ(summary_key(make_record("network", "block", "lost", json::object{{"count", 3}})), "lost");
}

// How many events a record stands for: the one rule behind every exact count.
TEST(Weight, WeightedRecordsCountTheirFieldAnyOtherOne) {
    EXPECT_EQ(weight(make_record("network", "block", "packet", json::object{{"count", 9}})), 1u);
    EXPECT_EQ(weight(make_record("network", "block", "lost", json::object{{"count", 5000}})), 5000u);
    EXPECT_EQ(weight(make_record("resource", "block", "pids_limit", json::object{{"count", 9000}, {"new", 2500}})),
              2500u);
    EXPECT_EQ(weight(make_record("resource", "block", "oom_kill", json::object{{"count", 3}, {"new", 2}})), 2u);
    // A weighted record without a valid field still reports the one event it is about.
    EXPECT_EQ(weight(make_record("network", "block", "lost", json::object{})), 1u);
    EXPECT_EQ(weight(make_record("resource", "block", "pids_limit", json::object{{"new", -4}})), 1u);
    EXPECT_EQ(weight(make_record("dns", "block", "query", json::object{{"new", 7}})), 1u);
}

// A refused line stands for its weight too, as far as it can be read.
TEST(Salvage, ARefusedWeightedLineTellsItsWeightUnlessCutBeforeIt) {
    const std::string line = json::serialize(make_record("network", "block", "lost", json::object{{"count", 77}}));
    Salvage whole = salvage_line(line);
    EXPECT_TRUE(whole.weight_known);
    EXPECT_EQ(whole.weight, 77u);
    Salvage cut = salvage_line(line.substr(0, line.find("\"count\"")));
    EXPECT_FALSE(cut.weight_known);
    Salvage packet = salvage_line(json::serialize(make_record("network", "block", "packet", json::object{})));
    EXPECT_TRUE(packet.weight_known);
    EXPECT_EQ(packet.weight, 1u);
}

// A refused line that is complete JSON stands for what audit::weight says of the same record: a
// weighted record without its field, or with a field that is not an integer >= 0, weighs 1.
TEST(Salvage, ACompleteLineWeighsWhatTheRecordWould) {
    // Found by the audit_line fuzzer (tests/fuzz/corpus/audit_line/refused-complete-weighted-lines.jsonl).
    Salvage missing = salvage_line(R"({"time":"2026-01-02T03:04:09.000Z","layer":"resource","verdict":"block",)"
                                   R"("event":"pids_limit","d.etails":{"new":3,"total":5,"limit":256}})");
    EXPECT_TRUE(missing.weight_known);
    EXPECT_EQ(missing.weight, 1u);
    for (const char *count : {"-5", "2.5", "\"7\"", "null", "[7]"}) {
        const std::string line = std::string(R"({"layer":"network","verdict":"block","event":"lost","details":{"count":)") +
                                 count + "},\"x\":1}";
        Salvage s = salvage_line(line);
        EXPECT_TRUE(s.weight_known) << line;
        EXPECT_EQ(s.weight, 1u) << line;
        EXPECT_EQ(s.weight, weight(json::parse(line).as_object())) << line;
    }
}

// Of a repeated key, the last one counts, as in the record the parser reads.
TEST(Salvage, ARepeatedKeyIsReadAsTheParserReadsIt) {
    const std::string line = R"({"layer":"network","verdict":"allow","verdict":"block","event":"lost",)"
                             R"("details":{"count":9},"details":{"count":40}})";
    Salvage s = salvage_line(line);
    EXPECT_EQ(s.verdict, "block");
    EXPECT_EQ(s.weight, 40u);
    Salvage not_a_string = salvage_line(R"({"layer":"network","verdict":"block","verdict":5,"event":"lost"})");
    EXPECT_EQ(not_a_string.verdict, "");
}

}  // namespace
}  // namespace rustyolo::audit
