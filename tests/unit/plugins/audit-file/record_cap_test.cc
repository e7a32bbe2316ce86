// The audit file's cap per session: the file never grows past max_bytes, dropping detail is said
// in the file (a "capped" record where it starts, a "dropped" record at the end with how many),
// the session's exit record is still written, and the exact totals are in the last record.
#include "plugins/audit-file/record_cap.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rustyolo::audit_file {
namespace {

namespace json = boost::json;

json::object record(std::uint64_t seq, const char *layer, const char *event, json::object details = {}) {
    return json::object{{"schema", 1},        {"time", "2026-11-28T08:10:18.123Z"},
                        {"session", "abc123"}, {"seq", seq},
                        {"layer", layer},      {"verdict", std::string(layer) == "lifecycle" ? "info" : "block"},
                        {"event", event},      {"details", std::move(details)}};
}

struct File {
    std::vector<json::object> records;
    std::uint64_t bytes = 0;
    void add(const std::vector<std::string> &lines) {
        for (const std::string &line : lines) {
            bytes += line.size() + 1;
            records.push_back(json::parse(line).as_object());
        }
    }
    std::size_t events(const char *event) const {
        std::size_t n = 0;
        for (const auto &r : records)
            n += r.at("event") == event;
        return n;
    }
};

TEST(RecordCap, AFloodStopsAtTheCapWithExitAndExactTotalsKept) {
    constexpr std::uint64_t kMax = 256 * 1024;
    RecordCap cap(kMax);
    File file;
    file.add(cap.admit(record(1, "lifecycle", "start")));
    constexpr std::uint64_t kFlood = 20000;
    for (std::uint64_t i = 0; i < kFlood; ++i)
        file.add(cap.admit(record(2 + i, "network", "packet",
                                  {{"destination", "172.29.0.27"}, {"port", i % 60000}, {"protocol", "udp"}})));
    file.add(cap.admit(record(2 + kFlood, "lifecycle", "exit", {{"exit_code", 0}, {"reason", "agent exited"}})));
    json::object counts;
    for (int k = 0; k < 5000; ++k)  // far more keys than fit: the most frequent are shown
        counts["172.29.0.27:" + std::to_string(k) + "/udp"] = k == 7 ? 10000 : 2;
    file.add(cap.finish({{"exit_code", 0}, {"counts", counts}}));

    EXPECT_LE(file.bytes, kMax);
    EXPECT_EQ(file.bytes, cap.written());
    const std::uint64_t packets = file.events("packet");
    EXPECT_GT(packets, 500u);
    EXPECT_EQ(packets + cap.dropped(), kFlood);
    EXPECT_EQ(file.events("capped"), 1u);
    EXPECT_EQ(file.events("exit"), 1u);
    const json::object &last = file.records.back();
    ASSERT_EQ(last.at("event"), "dropped");
    const json::object &d = last.at("details").as_object();
    EXPECT_EQ(d.at("records").to_number<std::uint64_t>(), cap.dropped());
    EXPECT_EQ(d.at("blocked").to_number<std::uint64_t>(), 10000u + 2 * 4999);
    EXPECT_EQ(d.at("counts").at("172.29.0.27:7/udp"), 10000);
    EXPECT_EQ(d.at("last_seq"), 1 + kFlood);
    EXPECT_EQ(last.at("seq"), 3 + kFlood);
    // Every key is in "counts" or in "other_count": nothing of the total is lost.
    std::uint64_t shown = 0;
    for (const auto &[key, n] : d.at("counts").as_object())
        shown += n.to_number<std::uint64_t>();
    EXPECT_EQ(shown + d.at("other_count").to_number<std::uint64_t>(), 10000u + 2 * 4999);
    // The marker stands where dropping began, with the seq of the first dropped record.
    for (const auto &r : file.records) {
        if (r.at("event") == "capped") {
            EXPECT_EQ(r.at("seq"), d.at("first_seq"));
        }
    }
}

TEST(RecordCap, ASessionUnderTheCapIsWrittenWhole) {
    RecordCap cap(64 * 1024);
    File file;
    for (std::uint64_t i = 1; i <= 50; ++i)
        file.add(cap.admit(record(i, "dns", "query", {{"name", "x.test"}, {"qtype", "A"}})));
    file.add(cap.finish({{"exit_code", 0}, {"counts", {{"dns A x.test", 50}}}}));
    EXPECT_EQ(file.records.size(), 50u);
    EXPECT_EQ(cap.dropped(), 0u);
    EXPECT_EQ(file.events("capped") + file.events("dropped"), 0u);
}

TEST(RecordCap, HugeRecordsNeverPushTheFilePastTheCap) {
    constexpr std::uint64_t kMax = 64 * 1024;
    RecordCap cap(kMax);
    File file;
    for (std::uint64_t i = 1; i <= 40; ++i)
        file.add(cap.admit(record(i, "dns", "query", {{"name", std::string(15000, 'q')}, {"qtype", "A"}})));
    // Exit records with long reasons, more than one: they use the reserve, never more.
    for (std::uint64_t i = 41; i <= 45; ++i)
        file.add(cap.admit(record(i, "lifecycle", "exit", {{"reason", std::string(15000, 'r')}})));
    file.add(cap.finish({{"counts", {{"dns A q", 40}}}}));
    EXPECT_LE(file.bytes, kMax);
    EXPECT_EQ(file.records.back().at("event"), "dropped");
    EXPECT_GE(file.events("exit"), 1u);
}

TEST(RecordCap, ZeroMeansNoCap) {
    RecordCap cap(0);
    File file;
    for (std::uint64_t i = 1; i <= 2000; ++i)
        file.add(cap.admit(record(i, "dns", "query", {{"name", std::string(1000, 'q')}})));
    EXPECT_EQ(file.records.size(), 2000u);
    EXPECT_TRUE(cap.finish({}).empty());
}

}  // namespace
}  // namespace rustyolo::audit_file
