// The audit channel's suppressed counts: whatever the number and length of the keys, every line
// fits the host's limit, and every counted event is in exactly one line's counts (or "lost").
#include "entrypoint/suppressed_tally.hpp"

#include "core/audit/record.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace rustyolo::entrypoint {
namespace {

namespace json = boost::json;

json::object packet(const std::string &destination, int port, const char *protocol) {
    return audit::make_record("network", "block", "packet",
                              json::object{{"destination", destination}, {"port", port}, {"protocol", protocol}});
}

json::object query(const std::string &name) {
    return audit::make_record("dns", "block", "query", json::object{{"name", name}, {"qtype", "A"}});
}

// What the lines say: "verdict key" -> n, and each line's "total" checked against its counts.
struct Read {
    std::map<std::string, std::uint64_t> counts;
    std::uint64_t lost_block = 0, lines = 0, events = 0;
};

Read read_lines(const std::vector<std::string> &lines, std::size_t max_line) {
    Read read;
    for (const std::string &line : lines) {
        EXPECT_LE(line.size(), max_line);
        json::value v = json::parse(line);
        EXPECT_EQ(audit::check_wire_record(v), std::nullopt) << line.substr(0, 200);
        const json::object &details = v.at("details").as_object();
        std::map<std::string, std::uint64_t> in_line;
        for (const auto &[verdict, keys] : details.at("counts").as_object())
            for (const auto &[key, n] : keys.as_object()) {
                read.counts[std::string(verdict) + " " + std::string(key)] += n.to_number<std::uint64_t>();
                in_line[std::string(verdict)] += n.to_number<std::uint64_t>();
            }
        if (const json::value *lost = details.if_contains("lost"))
            for (const auto &[verdict, n] : lost->as_object()) {
                in_line[std::string(verdict)] += n.to_number<std::uint64_t>();
                if (verdict == "block")
                    read.lost_block += n.to_number<std::uint64_t>();
            }
        std::map<std::string, std::uint64_t> total;
        for (const auto &[verdict, n] : details.at("total").as_object())
            total[std::string(verdict)] = n.to_number<std::uint64_t>();
        EXPECT_EQ(total, in_line) << "a line's total is what it counts";
        // "total" comes first, so that a cut line still tells it.
        EXPECT_EQ(details.begin()->key(), "total");
        for (const auto &[verdict, n] : in_line)
            read.events += n;
        ++read.lines;
    }
    return read;
}

TEST(SuppressedTally, ThousandsOfDistinctKeysSplitIntoLinesThatFitAndAddUp) {
    SuppressedTally tally;
    constexpr int kPorts = 20000;
    for (int port = 1; port <= kPorts; ++port)
        tally.count("block", packet("172.29.0.27", port, "udp"));
    const Read read = read_lines(tally.take_lines(audit::kMaxWireLine), audit::kMaxWireLine);
    EXPECT_EQ(read.events, static_cast<std::uint64_t>(kPorts));
    EXPECT_GT(read.lines, 1u) << "1024 keys do not fit one line";
    // The first 1024 ports under their own key, the rest under the address's coarse key.
    EXPECT_EQ(read.counts.at("block 172.29.0.27:1/udp"), 1u);
    EXPECT_EQ(read.counts.at("block 172.29.0.27:*/udp"), static_cast<std::uint64_t>(kPorts - 1024));
    EXPECT_EQ(read.counts.size(), 1025u);
    EXPECT_TRUE(tally.empty());
}

TEST(SuppressedTally, NoLineOverTheLimitWithVeryLongKeysAndSmallLines) {
    for (std::size_t max_line : {std::size_t(4096), audit::kMaxWireLine}) {
        SuppressedTally tally;
        // Names full of characters JSON escapes, and names far longer than a key may be.
        for (int i = 0; i < 2000; ++i)
            tally.count("block", query(std::to_string(i) + std::string(300, '"') + "\\.x.test"));
        for (int i = 0; i < 50; ++i)
            tally.count("block", query(std::string(100000, 'a') + std::to_string(i)));
        tally.count("info", audit::make_record("lifecycle", "info", "self_test", {}));
        const Read read = read_lines(tally.take_lines(max_line), max_line);
        EXPECT_EQ(read.events, 2051u) << max_line;
        for (const auto &[key, n] : read.counts)
            EXPECT_LE(key.size(), 6 + SuppressedTally::kMaxKeyBytes) << key.substr(0, 80);
    }
}

TEST(SuppressedTally, KeysOverTheLimitAreCutAndMarked) {
    SuppressedTally tally;
    tally.count("block", query(std::string(5000, 'b')));
    tally.count("block", query(std::string(5000, 'b')));
    const Read read = read_lines(tally.take_lines(audit::kMaxWireLine), audit::kMaxWireLine);
    ASSERT_EQ(read.counts.size(), 1u);
    const auto &[key, n] = *read.counts.begin();
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(key.size(), 6 + SuppressedTally::kMaxKeyBytes);
    EXPECT_EQ(key.substr(key.size() - SuppressedTally::kCutMark.size()), SuppressedTally::kCutMark);
}

// The attack: one connection hidden in a flood of distinct ports must still be findable by its
// address and protocol, even when the flood has filled every key.
TEST(SuppressedTally, AConnectionHiddenInAFloodKeepsItsAddressAndProtocol) {
    SuppressedTally tally;
    for (int port = 1; port <= 3000; ++port)
        tally.count("block", packet("172.29.0.27", port, "udp"));
    tally.count("block", packet("172.29.0.27", 4444, "tcp"));
    for (int host = 0; host < 2000; ++host)
        tally.count("block", packet("10.7." + std::to_string(host / 250) + "." + std::to_string(host % 250), 53, "udp"));
    const Read read = read_lines(tally.take_lines(audit::kMaxWireLine), audit::kMaxWireLine);
    EXPECT_EQ(read.counts.at("block 172.29.0.27:*/tcp"), 1u);
    EXPECT_EQ(read.events, 5001u);
    // Past the coarse keys too: the catch-all per protocol.
    EXPECT_GT(read.counts.at("block *:*/udp"), 0u);
    EXPECT_LE(read.counts.size(), SuppressedTally::kMaxKeys + SuppressedTally::kMaxCoarseKeys + 1);

    // The twin: with few keys the connection has its own, exact key.
    SuppressedTally few;
    for (int port = 1; port <= 10; ++port)
        few.count("block", packet("172.29.0.27", port, "udp"));
    few.count("block", packet("172.29.0.27", 4444, "tcp"));
    const Read twin = read_lines(few.take_lines(audit::kMaxWireLine), audit::kMaxWireLine);
    EXPECT_EQ(twin.counts.at("block 172.29.0.27:4444/tcp"), 1u);
    EXPECT_EQ(twin.lines, 1u);
}

TEST(SuppressedTally, LostRecordsAreDeliveredAndCounted) {
    SuppressedTally tally;
    tally.lost("block");
    tally.lost("block");
    tally.lost("info");
    EXPECT_FALSE(tally.empty());
    const Read read = read_lines(tally.take_lines(audit::kMaxWireLine), audit::kMaxWireLine);
    EXPECT_EQ(read.lines, 1u);
    EXPECT_EQ(read.lost_block, 2u);
    EXPECT_EQ(read.events, 3u);
    EXPECT_TRUE(tally.empty());
    EXPECT_TRUE(tally.take_lines(audit::kMaxWireLine).empty());
}

// A held-back record that stands for several events counts all of them (audit::weight): a network
// "lost" record its count, a resource record its "new"; also when counted by verdict only.
TEST(SuppressedTally, ARecordThatStandsForSeveralEventsCountsThemAll) {
    SuppressedTally tally;
    tally.count("block", audit::make_record("network", "block", "lost", json::object{{"count", 5000}}));
    tally.count("block", audit::make_record("resource", "block", "pids_limit",
                                            json::object{{"count", 9000}, {"new", 2500}}));
    tally.count("block", audit::make_record("resource", "block", "pids_limit",
                                            json::object{{"count", 9001}, {"new", 1}}));
    tally.count("block", packet("10.1.2.3", 22, "tcp"));
    tally.lost("block", 7);
    const Read read = read_lines(tally.take_lines(audit::kMaxWireLine), audit::kMaxWireLine);
    EXPECT_EQ(read.counts, (std::map<std::string, std::uint64_t>{
                               {"block lost", 5000}, {"block resource pids_limit", 2501}, {"block 10.1.2.3:22/tcp", 1}}));
    EXPECT_EQ(read.lost_block, 7u);
    EXPECT_EQ(read.events, 5000u + 2501u + 1u + 7u);
}

}  // namespace
}  // namespace rustyolo::entrypoint
