#include "plugins/audit-file/record_cap.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace rustyolo::audit_file {

namespace json = boost::json;

namespace {

std::string string_of(const json::object &o, const char *key) {
    const json::value *v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::uint64_t count_of(const json::value &n) {
    if (n.is_uint64())
        return n.as_uint64();
    if (n.is_int64() && n.as_int64() > 0)
        return static_cast<std::uint64_t>(n.as_int64());
    return 0;
}

}  // namespace

RecordCap::RecordCap(std::uint64_t max_bytes) : max_(max_bytes) {}

json::object RecordCap::own_record(const char *event, json::object details, json::value seq) const {
    return json::object{{"schema", 1},
                        {"time", last_time_},
                        {"session", session_},
                        {"seq", std::move(seq)},
                        {"layer", "lifecycle"},
                        {"verdict", "info"},
                        {"event", event},
                        {"details", std::move(details)}};
}

std::vector<std::string> RecordCap::admit(const json::object &record) {
    std::string line = json::serialize(record);
    const std::uint64_t size = line.size() + 1;
    if (const json::value *t = record.if_contains("time"))
        last_time_ = *t;
    if (const json::value *s = record.if_contains("session"))
        session_ = *s;
    const json::value seq = record.if_contains("seq") ? record.at("seq") : json::value(nullptr);
    last_seq_ = seq;
    if (max_ == 0) {
        written_ += size;
        return {std::move(line)};
    }
    const std::string event = string_of(record, "event");
    const bool last_record = string_of(record, "layer") == "lifecycle" && (event == "exit" || event == "transport");
    const std::uint64_t detail_limit = max_ - std::min(max_, kReserve);
    const std::uint64_t end_limit = max_ - std::min(max_, kTallyRoom);
    if ((!capped_ && written_ + size <= detail_limit) || (last_record && written_ + size <= end_limit)) {
        written_ += size;
        return {std::move(line)};
    }
    ++dropped_;
    if (first_dropped_seq_.is_null())
        first_dropped_seq_ = seq;
    last_dropped_seq_ = seq;
    if (capped_)
        return {};
    capped_ = true;
    std::string marker = json::serialize(own_record(
        "capped",
        json::object{{"max_bytes", max_},
                     {"reason", "the audit file reached audit_max_bytes; from here on records are dropped and "
                                "counted, except the session's exit; the totals stay exact"}},
        seq));
    if (written_ + marker.size() + 1 > end_limit)
        return {};  // no room even for the marker: the "dropped" record at the end still says it
    written_ += marker.size() + 1;
    return {std::move(marker)};
}

std::vector<std::string> RecordCap::finish(const json::object &summary) {
    if (dropped_ == 0)
        return {};
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    std::uint64_t blocked = 0;
    if (const json::value *c = summary.if_contains("counts"); c && c->is_object())
        for (const auto &[key, n] : c->as_object()) {
            counts.emplace_back(std::string(key), count_of(n));
            blocked += count_of(n);
        }
    std::stable_sort(counts.begin(), counts.end(), [](const auto &a, const auto &b) { return a.second > b.second; });

    json::value seq = last_seq_.is_uint64() || last_seq_.is_int64() ? json::value(last_seq_.to_number<std::uint64_t>() + 1)
                                                                     : json::value(nullptr);
    auto build = [&](std::size_t shown) {
        json::object top;
        std::uint64_t other = 0;
        for (std::size_t i = 0; i < counts.size(); ++i)
            if (i < shown)
                top[counts[i].first] = counts[i].second;
            else
                other += counts[i].second;
        json::object details{{"records", dropped_},
                             {"first_seq", first_dropped_seq_},
                             {"last_seq", last_dropped_seq_},
                             {"max_bytes", max_},
                             {"blocked", blocked},
                             {"counts", std::move(top)},
                             {"other_keys", counts.size() - std::min(shown, counts.size())},
                             {"other_count", other}};
        return json::serialize(own_record("dropped", std::move(details), seq));
    };
    // As many of the most frequent keys as fit in the room kept for this record.
    std::size_t shown = std::min<std::size_t>(counts.size(), 100);
    std::string line = build(shown);
    while (shown > 0 && line.size() + 1 > kTallyRoom) {
        shown /= 2;
        line = build(shown);
    }
    if (written_ + line.size() + 1 > max_)
        return {};  // cannot happen with max_bytes >= 64 KiB: the reserve is kept for it
    written_ += line.size() + 1;
    return {std::move(line)};
}

}  // namespace rustyolo::audit_file
