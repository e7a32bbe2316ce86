// Audit records (docs/audit-schema.md): the one definition shared by the host CLI, which writes
// them, and the container's supervisor, which sends most of them.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
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

// How many events a record stands for (docs/audit-schema.md, "Rate limit and exact counts"): a
// network "lost" record its details.count (packets whose log messages never arrived), a resource
// "oom_kill" or "pids_limit" record its details.new (hits since the previous record), any other
// record 1. A weighted record whose field is missing or not an integer >= 0 counts 1 (it reports
// at least the one event it is about). The one rule for every exact count: the supervisor's
// suppressed counts, the host's blocked counts and summary, `rustyolo audit`.
std::uint64_t weight(const boost::json::object &record) noexcept;
std::uint64_t weight(std::string_view layer, std::string_view event, const boost::json::object &details) noexcept;
// The details field that holds the weight of records of this layer and event ("count", "new"), or
// "" when such a record always stands for one event.
std::string_view weight_field(std::string_view layer, std::string_view event) noexcept;

// Coarser keys for the supervisor's suppressed counts once an interval holds too many distinct
// keys (docs/audit-schema.md, "Rate limit and exact counts"): the same record, with the part an
// agent can vary without end replaced by "*".
//   coarse:    network "<who>:*/<protocol>" ("*/<protocol>" without ports), dns "dns <qtype>
//              *.<parent>", mount "mount *"; other layers keep their key (their keys are few).
//   catch-all: network "*:*/<protocol>", dns "dns * *", syscall "syscall *", mount "mount *";
//              resource and lifecycle keep their key. Few enough to always be counted.
// Non-packet network events keep their "<event> " prefix.
std::string coarse_summary_key(const boost::json::object &record);
std::string catch_all_summary_key(const boost::json::object &record);

// What a line the host refused still tells (docs/audit-schema.md, "Refused lines"). The line is
// read as far as it is JSON (a line cut at the length limit is read up to the cut): the top-level
// "layer", "verdict" and "event" strings, for a suppressed record the numbers of its
// "details"."total" object (verdict -> events the line stands for), for any other its weight. The supervisor writes these
// fields first, so they survive a cut.
struct Salvage {
    std::string layer, verdict, event;             // empty when not found
    std::uint64_t total[3] = {0, 0, 0};            // block, allow, info
    bool has_total = false;
    // What any other line stands for (audit::weight): 1, or its weight field's value; false when
    // the line's event has a weight field (weight_field) and the line was cut before it.
    std::uint64_t weight = 1;
    bool weight_known = true;
};
Salvage salvage_line(std::string_view line);

// Whether a level ("none", "basic", "verbose") keeps records of this verdict.
bool level_admits(std::string_view level, std::string_view verdict);

}  // namespace rustyolo::audit
