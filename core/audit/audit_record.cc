#include "audit_record.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace rustyolo::audit {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 6> kLayers{"network", "dns", "syscall", "mount", "resource", "lifecycle"};
constexpr std::array<std::string_view, 3> kVerdicts{"block", "allow", "info"};

template <std::size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N> &set) {
    for (std::string_view s : set)
        if (s == value)
            return true;
    return false;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
            out += buffer;
        }
    }
    return out;
}

std::string text_of(const json::object &details, std::string_view key) {
    const json::value *v = details.if_contains(key);
    if (!v)
        return {};
    if (v->is_string())
        return printable(v->as_string());
    if (v->is_int64())
        return std::to_string(v->as_int64());
    if (v->is_uint64())
        return std::to_string(v->as_uint64());
    return {};
}

}  // namespace

std::string now_rfc3339() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char buffer[96];  // room for any int fields, so -Wformat-truncation is satisfied
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buffer;
}

json::object make_record(std::string_view layer, std::string_view verdict, std::string_view event,
                         json::object details) {
    return json::object{{"time", now_rfc3339()},
                        {"layer", layer},
                        {"verdict", verdict},
                        {"event", event},
                        {"details", std::move(details)}};
}

std::optional<std::string> check_wire_record(const json::value &value) {
    if (!value.is_object())
        return "not a JSON object";
    const json::object &record = value.as_object();
    for (std::string_view key : {"time", "layer", "verdict", "event"}) {
        const json::value *v = record.if_contains(key);
        if (!v || !v->is_string())
            return "field \"" + std::string(key) + "\" missing or not a string";
    }
    const json::value *details = record.if_contains("details");
    if (!details || !details->is_object())
        return "field \"details\" missing or not an object";
    if (record.size() != 5)
        return "unexpected fields (a record has exactly time, layer, verdict, event, details)";
    if (!one_of(record.at("layer").as_string(), kLayers))
        return "unknown layer \"" + printable(record.at("layer").as_string()) + "\"";
    if (!one_of(record.at("verdict").as_string(), kVerdicts))
        return "unknown verdict \"" + printable(record.at("verdict").as_string()) + "\"";
    const json::string &event = record.at("event").as_string();
    if (event.empty() || event.size() > 32)
        return "event name empty or too long";
    for (char c : event)
        if (!((c >= 'a' && c <= 'z') || c == '_'))
            return "event name \"" + printable(event) + "\" is not [a-z_]+";
    const json::string &time = record.at("time").as_string();
    if (time.size() < 20 || time.size() > 40 || time.back() != 'Z')
        return "time \"" + printable(time) + "\" is not RFC 3339 UTC";
    return std::nullopt;
}

std::string summary_key(const json::object &record) {
    auto str = [&](std::string_view key) -> std::string {
        const json::value *v = record.if_contains(key);
        return v && v->is_string() ? printable(v->as_string()) : std::string();
    };
    static const json::object empty;
    const json::value *d = record.if_contains("details");
    const json::object &details = d && d->is_object() ? d->as_object() : empty;
    const std::string layer = str("layer");
    const std::string event = str("event");
    if (layer == "network") {
        std::string who = text_of(details, "name");
        if (who.empty())
            who = text_of(details, "destination");
        if (who.empty())
            who = "?";
        std::string protocol = text_of(details, "protocol");
        std::string port = text_of(details, "port");
        std::string key = port.empty() ? who : who + ":" + port;
        if (!protocol.empty())
            key += "/" + protocol;
        if (event != "packet")
            key = event + " " + key;
        return key;
    }
    if (layer == "dns")
        return "dns " + text_of(details, "qtype") + " " + text_of(details, "name");
    if (layer == "syscall")
        return "syscall " + text_of(details, "syscall");
    if (layer == "mount")
        return "mount " + text_of(details, "source");
    return layer + " " + event;
}

bool level_admits(std::string_view level, std::string_view verdict) {
    if (level == "verbose")
        return true;
    if (level == "basic")
        return verdict != "allow";
    return false;
}

}  // namespace rustyolo::audit
