#include "core/host/git_aside_report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace rustyolo {
namespace {

namespace json = boost::json;

struct Report {
    std::string err;
    std::vector<std::pair<std::string, json::object>> records;
};

Report report(std::size_t moved, std::size_t failed = 0) {
    MoveAsideResult result;
    for (std::size_t i = 0; i < moved; ++i)
        result.moved.push_back({".git/new" + std::to_string(i), ".git/rustyolo-aside.s.1" + std::to_string(i)});
    for (std::size_t i = 0; i < failed; ++i)
        result.failures.push_back({".git/stuck" + std::to_string(i), "Permission denied"});
    Report out;
    std::ostringstream err;
    report_moved_aside(result, {"/p", "s", ""}, err,
                       [&](const std::string &event, json::object fields) { out.records.emplace_back(event, fields); });
    out.err = err.str();
    return out;
}

std::size_t lines(const std::string &text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(GitAsideReport, AFewEntriesGetALineAndARecordEach) {
    Report r = report(3);
    EXPECT_EQ(lines(r.err), 3u);
    ASSERT_EQ(r.records.size(), 3u);
    EXPECT_EQ(r.records[0].first, "git_moved_aside");
    EXPECT_EQ(r.records[0].second.at("source").as_string(), "/p/.git/new0");
    EXPECT_EQ(r.records[0].second.at("moved_to").as_string(), "/p/.git/rustyolo-aside.s.10");
}

TEST(GitAsideReport, AFloodIsCappedInLinesAndRecordsAndTheTotalIsRecordedOnce) {
    Report r = report(50000);
    EXPECT_EQ(lines(r.err), kAsideLinesShown + 1);
    EXPECT_NE(r.err.find("and 49980 more"), std::string::npos) << r.err;
    ASSERT_EQ(r.records.size(), kAsideRecordsWritten + 1);
    EXPECT_EQ(r.records[kAsideRecordsWritten - 1].first, "git_moved_aside");
    EXPECT_EQ(r.records.back().first, "git_moved_aside_total");
    EXPECT_EQ(r.records.back().second.at("count").to_number<std::uint64_t>(), 50000u);
    EXPECT_EQ(r.records.back().second.at("recorded").to_number<std::uint64_t>(), kAsideRecordsWritten);
}

TEST(GitAsideReport, FailuresAreCappedToo) {
    Report r = report(0, 5000);
    EXPECT_EQ(lines(r.err), kAsideLinesShown + 1);
    EXPECT_EQ(r.records.size(), kAsideRecordsWritten);
    EXPECT_EQ(r.records[0].first, "git_aside_failed");
}

TEST(GitAsideReport, ControlCharactersInANameReachTheTerminalEscaped) {
    EXPECT_EQ(printable("a\x1b[2Jb\n"), "a\\x1b[2Jb\\x0a");
}

}  // namespace
}  // namespace rustyolo
