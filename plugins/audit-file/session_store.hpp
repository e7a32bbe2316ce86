// Reading the audit file sink's own files back, for the audit read hook (`rustyolo audit`): which
// sessions the directory holds, and the records of one from a byte offset on. The records in them
// came partly from the container; the host escapes them before it shows them.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::audit_file {

// The record schema this reader understands (docs/audit-schema.md).
inline constexpr std::int64_t kRecordSchema = 1;

// One session file of the audit directory: <started>-<session>.jsonl.
struct SessionFile {
    std::string path;
    std::string name;
    // The session id and the start time its name carries.
    std::string id() const;
    std::string started() const;
};

// The *.jsonl files of `directory`, oldest first (their names sort by start time). Refuses
// (std::runtime_error) a directory that is a symlink, not owned by the user, or writable by
// group/others, as the sink does when it writes. A missing directory gives an empty list.
std::vector<SessionFile> list_session_files(const std::string &directory);

// The file of `wanted` in `directory`: "latest", a session id, or an unambiguous prefix of one.
// std::invalid_argument when none or several match (naming them), std::runtime_error when the
// directory holds no sessions.
SessionFile find_session(const std::string &directory, const std::string &wanted);

// Splits a byte stream into records. feed() takes any chunk; complete lines are parsed, the rest is
// kept for the next chunk. A line that is not a JSON object is counted, not returned. A record whose
// `schema` is not kRecordSchema throws std::runtime_error (this reader cannot read it).
class LineParser {
public:
    explicit LineParser(std::string file) : file_(std::move(file)) {}
    std::vector<boost::json::object> feed(std::string_view chunk);
    // Bytes after the last newline (a line being written, or cut off by a crash).
    bool has_partial_line() const { return !partial_.empty(); }
    std::size_t partial_size() const { return partial_.size(); }
    std::uint64_t malformed_lines() const { return malformed_; }

private:
    std::string file_;
    std::string partial_;
    std::uint64_t line_ = 0;
    std::uint64_t malformed_ = 0;
};

// Whether a running session holds the file's lock (flock).
bool is_live(const std::string &path);

// Opens a session file for reading: no symlinks, no FIFOs, a regular file. Throws std::runtime_error.
int open_session_file(const std::string &path);

// The records of a session file from byte `offset` on.
struct SessionRead {
    std::vector<boost::json::object> records;
    std::uint64_t offset = 0;           // just after the last whole line read
    std::uint64_t malformed_lines = 0;
    bool truncated = false;             // bytes after the last newline
    bool live = false;                  // locked by a running session before the read began
};
SessionRead read_session(const SessionFile &file, std::uint64_t offset = 0);

// The answers of the audit read hook (plugin_abi.h, rustyolo_audit_hooks.read).
boost::json::object list_answer(const std::string &directory);
boost::json::object read_answer(const std::string &directory, const std::string &wanted, std::uint64_t offset);

}  // namespace rustyolo::audit_file
