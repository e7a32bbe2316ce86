// What `rustyolo audit` shows of a session an audit sink read back (rustyolo_audit_hooks.read):
// the session's facts accounted from its records, and one escaped line per record. The records came
// partly from the container: everything shown to a terminal goes through printable() first.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rustyolo::audit_view {

// What `rustyolo audit` lists for one session.
struct SessionInfo {
    std::string session;
    std::string agent;                      // "" when no lifecycle start record names it
    std::string started;                    // the first record's time, else the sink's
    std::optional<std::int64_t> exit_code;  // from the lifecycle exit record
    std::uint64_t blocked = 0;              // exact: block records plus their suppressed counts
    std::uint64_t records = 0;
    std::uint64_t malformed_lines = 0;
    bool truncated = false;                 // the last line has no newline
    bool live = false;                      // a running session still writes it
    // For the blocked count: the session's level and the dns keys seen with verdict block (at
    // verbose, a suppressed dns key may be an allow).
    std::string level;
    std::set<std::string> dns_block_keys;
};

// A session as the sink's read hook answered for it (from offset 0), with its records accounted.
struct SessionRecords {
    SessionInfo info;
    std::vector<boost::json::object> records;
    std::string location;  // where the sink keeps it
};
// Throws std::runtime_error naming the sink's answer when it is not of the documented shape.
SessionRecords session_from_answer(const boost::json::value &answer);

// The records of a read answer (an empty list when it has none).
std::vector<boost::json::object> records_of(const boost::json::value &answer);

// One human-readable line for a record (no newline): time, verdict, layer/event, the summary key,
// and the details as key=value. Control characters in any value are escaped.
std::string format_record(const boost::json::object &record);

// Updates `info` with one record (agent, exit code, blocked count, started).
void account(SessionInfo &info, const boost::json::object &record);

}  // namespace rustyolo::audit_view
