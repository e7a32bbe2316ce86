#include "plugins/audit-syslog/syslog_format.hpp"

namespace rustyolo::audit_syslog {

namespace json = boost::json;

namespace {

std::string string_field(const json::object &record, std::string_view key) {
    const auto *value = record.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

// An RFC 3339 timestamp as RFC 5424 allows it (at most 6 fraction digits): checked by shape.
bool valid_timestamp(std::string_view time) {
    // YYYY-MM-DDTHH:MM:SS[.F{1,6}](Z|±HH:MM)
    auto digits = [&](std::size_t at, std::size_t n) {
        if (at + n > time.size())
            return false;
        for (std::size_t i = at; i < at + n; ++i)
            if (time[i] < '0' || time[i] > '9')
                return false;
        return true;
    };
    if (!(digits(0, 4) && time.size() > 19 && time[4] == '-' && digits(5, 2) && time[7] == '-' && digits(8, 2) &&
          time[10] == 'T' && digits(11, 2) && time[13] == ':' && digits(14, 2) && time[16] == ':' && digits(17, 2)))
        return false;
    std::size_t at = 19;
    if (time[at] == '.') {
        std::size_t n = 0;
        while (digits(at + 1 + n, 1))
            ++n;
        if (n < 1 || n > 6)
            return false;
        at += 1 + n;
    }
    if (at < time.size() && time[at] == 'Z')
        return at + 1 == time.size();
    return at + 6 == time.size() && (time[at] == '+' || time[at] == '-') && digits(at + 1, 2) &&
           time[at + 3] == ':' && digits(at + 4, 2);
}

}  // namespace

std::string escape_param_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '"' || c == '\\' || c == ']')
            out += '\\';
        out += c;
    }
    return out;
}

int priority(std::string_view verdict) {
    return kFacilityAuth * 8 + (verdict == "block" ? kSeverityWarning : kSeverityInfo);
}

std::string header_field(std::string_view text, std::size_t max_length) {
    if (text.empty() || text.size() > max_length)
        return "-";
    for (char c : text)
        if (c < 33 || c > 126)
            return "-";
    return std::string(text);
}

std::string format_message(const json::object &record, std::string_view hostname, long procid) {
    const std::string time = string_field(record, "time");
    const std::string verdict = string_field(record, "verdict");
    std::string message = "<" + std::to_string(priority(verdict)) + ">1 ";
    message += valid_timestamp(time) ? time : std::string("-");
    message += ' ' + header_field(hostname, 255);
    message += " rustyolo";
    message += ' ' + (procid > 0 ? std::to_string(procid) : std::string("-"));
    message += ' ' + header_field(string_field(record, "layer"), 32);
    message += " [" + std::string(kSdId);
    message += " session=\"" + escape_param_value(string_field(record, "session")) + "\"";
    message += " verdict=\"" + escape_param_value(verdict) + "\"";
    message += " event=\"" + escape_param_value(string_field(record, "event")) + "\"";
    message += "] ";
    message += json::serialize(record);
    return message;
}

}  // namespace rustyolo::audit_syslog
