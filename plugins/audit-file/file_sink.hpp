// The audit file sink: one JSON-lines file per session, in a private directory of the user's.
//
// The file is <started>-<session>.jsonl (the start time with ':' as '-', so names sort by start
// time), created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 relative to the opened directory: an
// existing file is never overwritten or followed. Each record is written as one whole line with
// write(2), so a reader (`rustyolo audit --follow`) sees it at once. While the session is live the
// sink holds flock(LOCK_EX) on the file; a reader tells a live session by that lock.
#pragma once

#include <rustyolo/sdk/unique_fd.hpp>

#include <string>
#include <string_view>

namespace rustyolo::audit_file {

// "<started with ':' → '-'>-<session>.jsonl". Throws std::invalid_argument (naming the value) when
// `started` is not an RFC 3339 time (digits, '-', ':', 'T', '.', 'Z', '+') or `session` is not
// 1–64 characters of [A-Za-z0-9_-].
std::string session_file_name(std::string_view started, std::string_view session);

// Creates `directory` and its missing parents (mode 0700) and opens it. Refuses (std::runtime_error
// naming the path and what to do) when it, as the last component, is a symlink, not a directory,
// not owned by the effective user, or writable by group or others.
UniqueFd open_private_directory(const std::string &directory);

class FileSink {
public:
    FileSink() = default;
    FileSink(const FileSink &) = delete;
    FileSink &operator=(const FileSink &) = delete;
    ~FileSink();

    // Creates the session's file and locks it. Returns its path. Throws std::runtime_error.
    std::string open(const std::string &directory, std::string_view started, std::string_view session);
    // Appends `line` and a newline in one write. Throws std::runtime_error naming the file.
    void write_line(std::string_view line);
    // Flushes the file to disk and releases the lock. Safe to call twice.
    void close();

    bool is_open() const { return static_cast<bool>(fd_); }
    const std::string &path() const { return path_; }

private:
    UniqueFd fd_;
    std::string path_;
};

}  // namespace rustyolo::audit_file
