#include "entrypoint/suppressed_tally.hpp"

#include "core/audit/record.hpp"

#include <limits>

namespace rustyolo::entrypoint {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 3> kVerdicts{"block", "allow", "info"};
constexpr std::size_t kNumberBytes = 20;  // the longest uint64 in decimal

std::string cut(std::string key) {
    if (key.size() > SuppressedTally::kMaxKeyBytes) {
        key.resize(SuppressedTally::kMaxKeyBytes - SuppressedTally::kCutMark.size());
        key += SuppressedTally::kCutMark;
    }
    return key;
}

// The longest a suppressed line can be without its entries: every verdict in "total", "lost" and
// "counts", every number as long as a number gets.
std::size_t skeleton_bytes() {
    json::object total, lost, counts;
    for (std::string_view verdict : kVerdicts) {
        total[verdict] = std::numeric_limits<std::uint64_t>::max();
        lost[verdict] = std::numeric_limits<std::uint64_t>::max();
        counts[verdict] = json::object{};
    }
    return json::serialize(audit::make_record(
                               "lifecycle", "info", "suppressed",
                               json::object{{"total", total}, {"lost", lost}, {"counts", counts}}))
        .size();
}

}  // namespace

std::size_t SuppressedTally::verdict_index(std::string_view verdict) {
    for (std::size_t i = 0; i < kVerdicts.size(); ++i)
        if (kVerdicts[i] == verdict)
            return i;
    return 2;  // anything else is counted as info, as the channel always did
}

void SuppressedTally::count(std::string_view verdict, const json::object &record) {
    const std::uint64_t events = audit::weight(record);
    if (events == 0)
        return;
    auto &by_key = counts_[verdict_index(verdict)];
    std::string key = cut(audit::summary_key(record));
    if (auto it = by_key.find(key); it != by_key.end()) {
        it->second += events;
        return;
    }
    if (keys_ < kMaxKeys) {
        ++keys_;
        by_key.emplace(std::move(key), events);
        return;
    }
    key = cut(audit::coarse_summary_key(record));
    if (auto it = by_key.find(key); it != by_key.end()) {
        it->second += events;
        return;
    }
    if (coarse_keys_ < kMaxCoarseKeys) {
        ++coarse_keys_;
        by_key.emplace(std::move(key), events);
        return;
    }
    by_key[cut(audit::catch_all_summary_key(record))] += events;
}

void SuppressedTally::lost(std::string_view verdict, std::uint64_t events) noexcept {
    lost_[verdict_index(verdict)] += events;
}

bool SuppressedTally::empty() const {
    for (std::size_t i = 0; i < kVerdicts.size(); ++i)
        if (!counts_[i].empty() || lost_[i] != 0)
            return false;
    return true;
}

std::vector<std::string> SuppressedTally::take_lines(std::size_t max_line) {
    std::vector<std::string> lines;
    const std::size_t room = max_line - std::min(max_line, skeleton_bytes());

    std::array<std::uint64_t, 3> total{};
    std::array<json::object, 3> counts;
    std::size_t used = 0, entries = 0;
    bool lost_sent = false;
    auto flush = [&] {
        json::object details, total_json, counts_json;
        for (std::size_t i = 0; i < kVerdicts.size(); ++i) {
            const std::uint64_t lost = lost_sent ? 0 : lost_[i];
            if (total[i] + lost > 0)
                total_json[kVerdicts[i]] = total[i] + lost;
            if (!counts[i].empty())
                counts_json[kVerdicts[i]] = std::move(counts[i]);
            counts[i] = json::object{};
            total[i] = 0;
        }
        details["total"] = std::move(total_json);
        if (!lost_sent) {
            json::object lost_json;
            for (std::size_t i = 0; i < kVerdicts.size(); ++i)
                if (lost_[i] > 0)
                    lost_json[kVerdicts[i]] = lost_[i];
            if (!lost_json.empty())
                details["lost"] = std::move(lost_json);
            lost_sent = true;
        }
        details["counts"] = std::move(counts_json);
        lines.push_back(json::serialize(audit::make_record("lifecycle", "info", "suppressed", std::move(details))));
        used = entries = 0;
    };

    for (std::size_t i = 0; i < kVerdicts.size(); ++i) {
        for (auto &[key, n] : counts_[i]) {
            // "key":n, — the key as JSON escapes it.
            const std::size_t cost = json::serialize(json::string_view(key)).size() + 1 + kNumberBytes + 1;
            if (entries > 0 && used + cost > room)
                flush();
            counts[i][key] = n;
            total[i] += n;
            used += cost;
            ++entries;
        }
    }
    const bool any_lost = lost_[0] + lost_[1] + lost_[2] > 0;
    if (entries > 0 || any_lost)
        flush();

    for (auto &by_key : counts_)
        by_key.clear();
    lost_ = {};
    keys_ = coarse_keys_ = 0;
    return lines;
}

}  // namespace rustyolo::entrypoint
