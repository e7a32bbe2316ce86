// How the end-of-session move-aside (git_dirs.hpp) is reported: a line on stderr and an audit
// record per entry, capped, so that an agent that adds 50 000 entries cannot flood the terminal or
// the audit log (the entries are all moved all the same).
#pragma once

#include "core/private_header.hpp"

#include "core/host/git_dirs.hpp"

#include <boost/json.hpp>

#include <functional>
#include <ostream>
#include <string>

namespace rustyolo {

constexpr std::size_t kAsideLinesShown = 20;     // stderr lines, then "and N more"
constexpr std::size_t kAsideRecordsWritten = 100;  // `git_moved_aside` records, then one total

struct AsideReportContext {
    std::string project;   // absolute host path
    std::string session;   // whose agent added the entries (this session, or a dead one's)
    std::string by;        // "" when this session's own; else how it was found ("a killed session")
};

// Writes the report of `result` to `err` and hands each audit record (event name, fields) to
// `record`: `git_moved_aside` for at most kAsideRecordsWritten entries, then one
// `git_moved_aside_total` with the count of all of them; `git_aside_failed` for what could not be
// moved (capped the same way, it is the agent's doing too).
void report_moved_aside(const MoveAsideResult &result, const AsideReportContext &ctx, std::ostream &err,
                        const std::function<void(const std::string &, boost::json::object)> &record);

// `text` with control characters and bytes >= 0x7f written as \xNN: names the agent chose go to
// a terminal.
std::string printable(const std::string &text);

}  // namespace rustyolo
