// RFC 5424 messages for audit records.
//
//   <PRI>1 TIMESTAMP HOSTNAME rustyolo PROCID MSGID [rustyolo@32473 session="…" verdict="…" event="…"] MSG
//
// PRI uses the facility auth (4): block → warning (4), allow and info → info (6). TIMESTAMP is the
// record's `time`, MSGID its `layer`, MSG the record as one line of JSON (no BOM). A header field
// that is not valid for its place is the NILVALUE "-".
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace rustyolo::audit_syslog {

inline constexpr int kFacilityAuth = 4;
inline constexpr int kSeverityWarning = 4;
inline constexpr int kSeverityInfo = 6;
// The SD-ID's enterprise number (RFC 5612's number for examples and documentation).
inline constexpr std::string_view kSdId = "rustyolo@32473";

// An SD-PARAM value with '"', '\' and ']' escaped by a backslash (RFC 5424 §6.3.3).
std::string escape_param_value(std::string_view value);

// The PRI value for a record's verdict.
int priority(std::string_view verdict);

// `text` when it is 1..max_length printable US-ASCII characters (33..126), else "-".
std::string header_field(std::string_view text, std::size_t max_length);

// The whole message for `record`, from `hostname` and `procid`.
std::string format_message(const boost::json::object &record, std::string_view hostname, long procid);

}  // namespace rustyolo::audit_syslog
