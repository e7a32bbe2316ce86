#include "core/audit/session_view.hpp"

#include "core/audit/record.hpp"
#include <rustyolo/sdk/text.hpp>

#include <algorithm>
#include <stdexcept>

namespace rustyolo::audit_view {

namespace json = boost::json;

namespace {

std::string string_field(const json::object &object, std::string_view key) {
    const auto *value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

// A JSON value as it reads after "key=": strings printable (escaped, quoted when they hold blanks),
// anything else as compact JSON, escaped too.
std::string show_value(const json::value &value) {
    if (value.is_string()) {
        const std::string_view s(value.as_string().data(), value.as_string().size());
        const bool plain = !s.empty() && std::none_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '"'; });
        return plain ? text::printable(s) : text::quoted(s);
    }
    return text::printable(json::serialize(value));
}

std::uint64_t count_at(const json::object &answer, const char *key) {
    const json::value *value = answer.if_contains(key);
    return value && value->is_int64() && value->as_int64() > 0 ? static_cast<std::uint64_t>(value->as_int64()) : 0;
}

bool flag_at(const json::object &answer, const char *key) {
    const json::value *value = answer.if_contains(key);
    return value && value->is_bool() && value->as_bool();
}

}  // namespace

std::vector<json::object> records_of(const json::value &answer) {
    std::vector<json::object> records;
    const json::object *o = answer.if_object();
    const json::value *list = o ? o->if_contains("records") : nullptr;
    if (list && list->is_array())
        for (const auto &record : list->as_array())
            if (record.is_object())
                records.push_back(record.as_object());
    return records;
}

SessionRecords session_from_answer(const json::value &answer) {
    const json::object *o = answer.if_object();
    if (!o || !o->contains("records"))
        throw std::runtime_error("the audit sink's read answer has no records: " +
                                 text::printable(json::serialize(answer).substr(0, 200)));
    SessionRecords result;
    result.records = records_of(answer);
    for (const auto &record : result.records)
        account(result.info, record);
    result.location = string_field(*o, "location");
    result.info.truncated = flag_at(*o, "truncated");
    result.info.live = flag_at(*o, "live");
    result.info.malformed_lines = count_at(*o, "malformed_lines");
    if (result.info.started.empty())
        result.info.started = string_field(*o, "started");
    if (result.info.session.empty())
        result.info.session = string_field(*o, "session");
    return result;
}

void account(SessionInfo &info, const json::object &record) {
    ++info.records;
    if (info.session.empty())
        info.session = string_field(record, "session");
    if (info.records == 1 && !string_field(record, "time").empty())
        info.started = string_field(record, "time");
    const std::string layer = string_field(record, "layer");
    const std::string verdict = string_field(record, "verdict");
    const std::string event = string_field(record, "event");
    const auto *details_value = record.if_contains("details");
    const json::object empty;
    const json::object &details = details_value && details_value->is_object() ? details_value->as_object() : empty;

    if (verdict == "block") {
        // As many events as the record stands for (a network "lost" record its count, a
        // resource record its "new").
        info.blocked += audit::weight(record);
        if (layer == "dns")
            info.dns_block_keys.insert(audit::summary_key(record));
    }
    if (layer != "lifecycle")
        return;
    auto positive = [](const json::value &n) -> std::uint64_t {
        return n.is_int64() && n.as_int64() > 0 ? static_cast<std::uint64_t>(n.as_int64()) : 0;
    };
    if (event == "start") {
        info.agent = string_field(details, "agent");
        info.level = string_field(details, "level");
    } else if (event == "exit") {
        if (const auto *code = details.if_contains("exit_code"); code && code->is_int64())
            info.exit_code = code->as_int64();
    } else if (event == "suppressed") {
        const auto *counts = details.if_contains("counts");
        if (!counts || !counts->is_object())
            return;
        for (const auto &[key, count] : counts->as_object()) {
            // The schema's form: verdict -> key -> n; only "block" counts are blocks.
            if (count.is_object()) {
                if (key == "block")
                    for (const auto &[k, n] : count.as_object()) {
                        (void)k;
                        info.blocked += positive(n);
                    }
                continue;
            }
            // An older flat form, key -> n.
            if (!count.is_int64() || count.as_int64() <= 0)
                continue;
            const std::string_view k(key.data(), key.size());
            // Lifecycle records are facts, not blocks; at verbose a dns key may be an allow.
            if (k.starts_with("lifecycle "))
                continue;
            if (k.starts_with("dns ") && info.level == "verbose" && !info.dns_block_keys.contains(std::string(k)))
                continue;
            info.blocked += static_cast<std::uint64_t>(count.as_int64());
        }
        // Records the supervisor could not even count by key.
        if (const auto *lost = details.if_contains("lost"); lost && lost->is_object())
            if (const auto *n = lost->as_object().if_contains("block"))
                info.blocked += positive(*n);
    } else if (event == "transport") {
        // Blocked events that lines the host refused stood for.
        if (const auto *events = details.if_contains("events"); events && events->is_object())
            if (const auto *n = events->as_object().if_contains("block"))
                info.blocked += positive(*n);
    } else if (event == "dropped") {
        // The file reached its cap (docs/audit.md): the host's exact total is in this last record.
        if (const auto *blocked = details.if_contains("blocked"); blocked && blocked->is_int64())
            info.blocked = positive(*blocked);
    }
}

std::string format_record(const json::object &record) {
    std::string line = text::printable(string_field(record, "time"));
    std::string verdict = text::printable(string_field(record, "verdict"));
    verdict.resize(std::max<std::size_t>(verdict.size(), 5), ' ');
    line += "  " + verdict + "  " + text::printable(string_field(record, "layer")) + "/" +
            text::printable(string_field(record, "event"));
    if (string_field(record, "layer") != "lifecycle")
        line += "  " + audit::summary_key(record);  // printable by construction
    if (const auto *details = record.if_contains("details"); details && details->is_object()) {
        for (const auto &[key, value] : details->as_object()) {
            if (value.is_null())
                continue;
            line += "  " + text::printable(std::string_view(key.data(), key.size())) + "=" + show_value(value);
        }
    }
    return line;
}

}  // namespace rustyolo::audit_view
