// Reading the audit file sink's files back, for `rustyolo audit`. The records in them came partly
// from the container: everything shown to a terminal goes through printable() first.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rustyolo::audit_reader {

// One session file of the audit directory.
struct SessionFile {
    std::string path;
    std::string name;  // <started>-<session>.jsonl
};

// The *.jsonl files of `directory`, oldest first (their names sort by start time). Refuses (Error)
// a directory that is a symlink, not owned by the user, or writable by group/others, as the file
// sink does. A missing directory gives an empty list.
std::vector<SessionFile> list_session_files(const std::string &directory);

// Splits a byte stream into records. feed() takes any chunk; complete lines are parsed, the rest is
// kept for the next chunk. A line that is not a JSON object is counted, not returned. A record whose
// `schema` is not 1 throws Error (this rustyolo cannot read it).
class LineParser {
public:
    explicit LineParser(std::string file) : file_(std::move(file)) {}
    std::vector<boost::json::object> feed(std::string_view chunk);
    // Bytes after the last newline (a line being written, or cut off by a crash).
    bool has_partial_line() const { return !partial_.empty(); }
    std::uint64_t malformed_lines() const { return malformed_; }

private:
    std::string file_;
    std::string partial_;
    std::uint64_t line_ = 0;
    std::uint64_t malformed_ = 0;
};

// One read(2) of `fd` through `parser`: appends the complete records to `records`. False at the end
// of the file (for now: a live session may append more). Throws Error naming `path` on a read error.
bool read_records(int fd, const std::string &path, LineParser &parser, std::vector<boost::json::object> &records);

// What `rustyolo audit` lists for one session.
struct SessionInfo {
    std::string session;
    std::string agent;                      // "" when no lifecycle start record names it
    std::string started;                    // the first record's time, else from the file name
    std::optional<std::int64_t> exit_code;  // from the lifecycle exit record
    std::uint64_t blocked = 0;              // exact: block records plus their suppressed counts
    std::uint64_t records = 0;
    std::uint64_t malformed_lines = 0;
    bool truncated = false;                 // the last line has no newline
    bool live = false;                      // the file is locked by a running session
    // For the blocked count: the session's level and the dns keys seen with verdict block (at
    // verbose, a suppressed dns key may be an allow).
    std::string level;
    std::set<std::string> dns_block_keys;
};

// Reads a session file whole. Throws Error when it cannot be read or holds an unknown schema.
struct SessionRecords {
    SessionInfo info;
    std::vector<boost::json::object> records;
};
SessionRecords read_session(const SessionFile &file);

// Whether a running session holds the file's lock (flock).
bool is_live(const std::string &path);

// Opens a session file for reading: no symlinks, no FIFOs, a regular file. Throws Error.
int open_session_file(const std::string &path);

// One human-readable line for a record (no newline): time, verdict, layer/event, the summary key,
// and the details as key=value. Control characters in any value are escaped.
std::string format_record(const boost::json::object &record);

// Updates `info` with one record (agent, exit code, blocked count, started).
void account(SessionInfo &info, const boost::json::object &record);

}  // namespace rustyolo::audit_reader
