// Audit records (docs/audit-schema.md): the one definition shared by the host CLI, which writes
// them, and the container's supervisor, which sends most of them.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rustyolo::audit {

inline constexpr int kSchema = 1;
// The longest line the supervisor sends and the host accepts (without the newline).
inline constexpr std::size_t kMaxWireLine = 16 * 1024;

// The current time as RFC 3339 UTC with milliseconds: "2026-11-28T08:10:18.123Z".
std::string now_rfc3339();

// A record as the supervisor sends it: time (now), layer, verdict, event, details.
boost::json::object make_record(std::string_view layer, std::string_view verdict, std::string_view event,
                                boost::json::object details);

// Whether `record` is a well-formed wire record (the five fields, known layer and verdict, a
// non-empty [a-z_]+ event, details an object). Returns the reason it is not, or nullopt.
std::optional<std::string> check_wire_record(const boost::json::value &record);

// The summary key of a record (see the schema document), printable ASCII only: bytes outside
// 0x20..0x7e in names are escaped.
std::string summary_key(const boost::json::object &record);

// Whether a level ("none", "basic", "verbose") keeps records of this verdict.
bool level_admits(std::string_view level, std::string_view verdict);

}  // namespace rustyolo::audit
