#include "core/audit/record.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

namespace rustyolo::audit {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 7> kLayers{"network", "dns", "syscall", "mount", "resource", "lifecycle",
                                                  "policy"};
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

namespace {

const json::object &details_of(const json::object &record) {
    static const json::object empty;
    const json::value *d = record.if_contains("details");
    return d && d->is_object() ? d->as_object() : empty;
}

std::string string_field(const json::object &record, std::string_view key) {
    const json::value *v = record.if_contains(key);
    return v && v->is_string() ? printable(v->as_string()) : std::string();
}

// A network key from its parts: "<who>:<port>/<protocol>", "<who>/<protocol>" without ports, with
// "<event> " in front for events other than "packet"; an event without an address is its name.
std::string network_key(const std::string &event, std::string who, const std::string &port,
                        const std::string &protocol) {
    if (who.empty() && port.empty() && protocol.empty() && event != "packet")
        return event;
    if (who.empty())
        who = "?";
    std::string key = port.empty() ? who : who + ":" + port;
    if (!protocol.empty())
        key += "/" + protocol;
    if (event != "packet")
        key = event + " " + key;
    return key;
}

std::string network_who(const json::object &details) {
    std::string who = text_of(details, "name");
    return who.empty() ? text_of(details, "destination") : who;
}

}  // namespace

std::string summary_key(const json::object &record) {
    const json::object &details = details_of(record);
    const std::string layer = string_field(record, "layer");
    const std::string event = string_field(record, "event");
    if (layer == "network")
        return network_key(event, network_who(details), text_of(details, "port"), text_of(details, "protocol"));
    if (layer == "dns")
        return "dns " + text_of(details, "qtype") + " " + text_of(details, "name");
    if (layer == "syscall")
        return "syscall " + text_of(details, "syscall");
    if (layer == "mount")
        return "mount " + text_of(details, "source");
    return layer + " " + event;
}

std::string_view weight_field(std::string_view layer, std::string_view event) noexcept {
    if (layer == "network" && event == "lost")
        return "count";
    if (layer == "resource" && (event == "oom_kill" || event == "pids_limit"))
        return "new";
    return {};
}

std::uint64_t weight(std::string_view layer, std::string_view event, const json::object &details) noexcept {
    const std::string_view field = weight_field(layer, event);
    if (field.empty())
        return 1;
    const json::value *n = details.if_contains(field);
    if (n && n->is_uint64())
        return n->as_uint64();
    if (n && n->is_int64() && n->as_int64() >= 0)
        return static_cast<std::uint64_t>(n->as_int64());
    return 1;
}

std::uint64_t weight(const json::object &record) noexcept {
    const json::value *layer = record.if_contains("layer");
    const json::value *event = record.if_contains("event");
    if (!layer || !layer->is_string() || !event || !event->is_string())
        return 1;
    return weight(layer->as_string(), event->as_string(), details_of(record));
}

std::string coarse_summary_key(const json::object &record) {
    const json::object &details = details_of(record);
    const std::string layer = string_field(record, "layer");
    const std::string event = string_field(record, "event");
    if (layer == "network") {
        const std::string port = text_of(details, "port");
        return network_key(event, port.empty() ? "*" : network_who(details), port.empty() ? "" : "*",
                           text_of(details, "protocol"));
    }
    if (layer == "dns") {
        const std::string name = text_of(details, "name");
        const std::size_t dot = name.find('.');
        return "dns " + text_of(details, "qtype") + (dot == std::string::npos ? " *" : " *" + name.substr(dot));
    }
    if (layer == "mount")
        return "mount *";
    return summary_key(record);
}

std::string catch_all_summary_key(const json::object &record) {
    const std::string layer = string_field(record, "layer");
    if (layer == "network") {
        const json::object &details = details_of(record);
        return network_key(string_field(record, "event"), "*", text_of(details, "port").empty() ? "" : "*",
                           text_of(details, "protocol"));
    }
    if (layer == "dns")
        return "dns * *";
    if (layer == "syscall")
        return "syscall *";
    if (layer == "mount")
        return "mount *";
    return summary_key(record);
}

namespace {

// A boost::json SAX handler that keeps the few fields salvage_line() wants and ignores the rest. It
// reads them as the parser of accepted lines does: of a repeated key the last one counts, and a
// field of the wrong type is as good as absent (a weight field of the wrong type weighs 1).
class SalvageHandler {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    Salvage result;

    bool on_document_begin(boost::system::error_code &) { return true; }
    bool on_document_end(boost::system::error_code &) { return true; }
    bool on_array_begin(boost::system::error_code &) {
        other_value();
        return open("[]");
    }
    bool on_array_end(std::size_t, boost::system::error_code &) { return close(); }
    bool on_object_begin(boost::system::error_code &) {
        other_value();
        return open("");
    }
    bool on_object_end(std::size_t, boost::system::error_code &) { return close(); }
    bool on_string_part(json::string_view s, std::size_t, boost::system::error_code &) { return part(value_, s); }
    bool on_string(json::string_view s, std::size_t, boost::system::error_code &) {
        part(value_, s);
        if (std::string *field = top_field())
            *field = value_;
        else
            other_value();
        value_.clear();
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, boost::system::error_code &) { return part(key_, s); }
    bool on_key(json::string_view s, std::size_t, boost::system::error_code &) {
        part(key_, s);
        if (!path_.empty())
            path_.back() = key_;
        key_.clear();
        // A repeated "details" (or "details"."total") replaces what the earlier one said.
        if (path_.size() == 1 && path_[0] == "details") {
            result_count_.reset();
            result_new_.reset();
        }
        if ((path_.size() == 1 && path_[0] == "details") ||
            (path_.size() == 2 && path_[0] == "details" && path_[1] == "total")) {
            std::fill(std::begin(result.total), std::end(result.total), 0);
            result.has_total = false;
        }
        return true;
    }
    bool on_number_part(json::string_view, boost::system::error_code &) { return true; }
    bool on_int64(std::int64_t i, json::string_view, boost::system::error_code &) {
        if (i < 0) {
            other_value();
            return true;
        }
        return number(static_cast<std::uint64_t>(i));
    }
    bool on_uint64(std::uint64_t u, json::string_view, boost::system::error_code &) { return number(u); }
    bool on_double(double, json::string_view, boost::system::error_code &) { return other_value(); }
    bool on_bool(bool, boost::system::error_code &) { return other_value(); }
    bool on_null(boost::system::error_code &) { return other_value(); }
    bool on_comment_part(json::string_view, boost::system::error_code &) { return true; }
    bool on_comment(json::string_view, boost::system::error_code &) { return true; }

private:
    static constexpr std::size_t kKeep = 64;  // longer keys and strings are not among those wanted

    bool open(const char *key) {
        path_.emplace_back(key);
        return path_.size() <= 32;
    }
    bool close() {
        if (!path_.empty())
            path_.pop_back();
        return true;
    }
    static bool part(std::string &into, json::string_view s) {
        if (into.size() < kKeep)
            into.append(s.data(), std::min(s.size(), kKeep - into.size()));
        return true;
    }
    // The top-level "layer", "verdict" or "event" a value is for, or nullptr.
    std::string *top_field() {
        if (path_.size() != 1)
            return nullptr;
        const std::string &key = path_[0];
        return key == "layer" ? &result.layer : key == "verdict" ? &result.verdict : key == "event" ? &result.event
                                                                                                 : nullptr;
    }
    // A value that is not a non-negative integer (or not a string, for the top-level fields).
    bool other_value() {
        if (std::string *field = top_field())
            field->clear();
        if (path_.size() == 2 && path_[0] == "details") {
            if (path_[1] == "count")
                result_count_ = 1;  // audit::weight: not an integer >= 0 weighs 1
            else if (path_[1] == "new")
                result_new_ = 1;
        }
        if (path_.size() == 3 && path_[0] == "details" && path_[1] == "total")
            for (std::size_t i = 0; i < kVerdicts.size(); ++i)
                if (path_[2] == kVerdicts[i])
                    result.total[i] = 0;
        return true;
    }
    bool number(std::uint64_t n) {
        if (std::string *field = top_field())
            field->clear();
        if (path_.size() == 2 && path_[0] == "details") {
            if (path_[1] == "count")
                result_count_ = n;
            else if (path_[1] == "new")
                result_new_ = n;
        }
        if (path_.size() == 3 && path_[0] == "details" && path_[1] == "total") {
            for (std::size_t i = 0; i < kVerdicts.size(); ++i)
                if (path_[2] == kVerdicts[i]) {
                    result.total[i] = n;
                    result.has_total = true;
                }
        }
        return true;
    }

public:
    std::optional<std::uint64_t> result_count_, result_new_;  // details.count, details.new

private:
    std::vector<std::string> path_;  // the key of each open object (arrays: "[]")
    std::string key_, value_;
};

}  // namespace

Salvage salvage_line(std::string_view line) {
    json::basic_parser<SalvageHandler> parser(json::parse_options{});
    boost::system::error_code ec;
    // more = true: a line cut at the length limit is read as far as it goes, without an error
    // for its missing end.
    parser.write_some(true, line.data(), line.size(), ec);
    // Complete: the line was read to its end (a weight field it lacks weighs 1, as audit::weight says).
    const bool complete = !ec && parser.done();
    const SalvageHandler &handler = parser.handler();
    Salvage salvage = handler.result;
    if (salvage.event != "suppressed") {
        salvage = Salvage{salvage.layer, salvage.verdict, salvage.event};  // "total" means nothing elsewhere
        const std::string_view field = weight_field(salvage.layer, salvage.event);
        const std::optional<std::uint64_t> &n = field == "count" ? handler.result_count_ : handler.result_new_;
        if (!field.empty()) {
            salvage.weight = n.value_or(1);
            salvage.weight_known = n.has_value() || complete;
        }
    }
    return salvage;
}

bool level_admits(std::string_view level, std::string_view verdict) {
    if (level == "verbose")
        return true;
    if (level == "basic")
        return verdict != "allow";
    return false;
}

}  // namespace rustyolo::audit
