#include "plugins/audit-file/session_store.hpp"

#include <rustyolo/sdk/text.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace rustyolo::audit_file {

namespace json = boost::json;

namespace {

// A line longer than this is not a record (records are at most a few KiB).
constexpr std::size_t kMaxLine = 1 << 20;

}  // namespace

std::string SessionFile::id() const {
    const std::string stem = name.substr(0, name.size() - 6);
    return stem.substr(stem.rfind('-') + 1);
}

std::string SessionFile::started() const { return name.substr(0, std::min<std::size_t>(24, name.size())); }

std::vector<SessionFile> list_session_files(const std::string &directory) {
    struct stat st {};
    if (::lstat(directory.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return {};
        throw std::runtime_error("cannot read the audit directory " + directory + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        throw std::runtime_error("the audit directory " + directory + " is a symlink; rustyolo does not follow it. Give the "
                    "real directory with [security] audit_dir");
    if (!S_ISDIR(st.st_mode))
        throw std::runtime_error("the audit directory " + directory + " is not a directory");
    if (st.st_uid != ::geteuid())
        throw std::runtime_error("the audit directory " + directory + " is owned by uid " + std::to_string(st.st_uid) +
                    ", not by you; its records cannot be trusted. Use a directory of your own");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        throw std::runtime_error("the audit directory " + directory + " is writable by group or others, so its records "
                    "cannot be trusted; run `chmod go-w " + directory + "`");

    std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(directory.c_str()), &::closedir);
    if (!dir)
        throw std::runtime_error("cannot read the audit directory " + directory + ": " + std::strerror(errno));
    std::vector<SessionFile> files;
    while (const dirent *entry = ::readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (name.size() <= 6 || !name.ends_with(".jsonl") || name.front() == '.')
            continue;
        files.push_back({directory + "/" + name, name});
    }
    std::sort(files.begin(), files.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
    return files;
}

std::vector<json::object> LineParser::feed(std::string_view chunk) {
    std::vector<json::object> out;
    partial_.append(chunk);
    std::size_t start = 0;
    for (std::size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1) {
        ++line_;
        const std::string_view line(partial_.data() + start, end - start);
        if (line.empty())
            continue;
        json::error_code ec;
        json::value value = line.size() > kMaxLine ? json::value() : json::parse(line, ec);
        if (ec || !value.is_object()) {
            ++malformed_;
            continue;
        }
        auto &record = value.as_object();
        const auto *schema = record.if_contains("schema");
        if (schema == nullptr || !schema->is_int64() || schema->as_int64() != kRecordSchema) {
            const std::string shown = schema ? text::printable(json::serialize(*schema)) : "missing";
            throw std::runtime_error(file_ + ":" + std::to_string(line_) + ": audit record schema " + shown +
                        "; this rustyolo reads schema " + std::to_string(kRecordSchema) +
                        " only. Read it with the rustyolo version that wrote it, or upgrade rustyolo");
        }
        out.push_back(std::move(record));
    }
    partial_.erase(0, start);
    if (partial_.size() > kMaxLine) {
        ++malformed_;
        partial_.clear();
    }
    return out;
}

int open_session_file(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        throw std::runtime_error("cannot open the audit file " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw std::runtime_error("the audit file " + path + " is not a regular file");
    return fd.release();
}

bool is_live(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        return false;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0)
        return false;  // nobody holds the exclusive lock (closing the fd drops ours)
    return errno == EWOULDBLOCK;
}

SessionFile find_session(const std::string &directory, const std::string &wanted) {
    const auto files = list_session_files(directory);
    if (files.empty())
        throw std::runtime_error("no audit records in " + directory + " yet");
    if (wanted == "latest")
        return files.back();
    std::vector<SessionFile> matches;
    for (const auto &file : files) {
        const std::string id = file.id();
        if (id == wanted)
            return file;
        if (id.rfind(wanted, 0) == 0)
            matches.push_back(file);
    }
    if (matches.size() == 1)
        return matches.front();
    if (matches.empty())
        throw std::invalid_argument("no recorded session " + text::quoted(wanted, 80) + " in " + directory +
                                    "; `rustyolo audit` lists them");
    std::string names;
    for (const auto &m : matches)
        names += "\n  " + m.name;
    throw std::invalid_argument("session prefix " + text::quoted(wanted, 80) + " matches " +
                                std::to_string(matches.size()) + " sessions; give more of the id:" + names);
}

SessionRead read_session(const SessionFile &file, std::uint64_t offset) {
    SessionRead result;
    result.live = is_live(file.path);
    UniqueFd fd(open_session_file(file.path));
    if (offset > 0 && ::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
        throw std::runtime_error("cannot read the audit file " + file.path + " from byte " + std::to_string(offset) +
                                 ": " + std::strerror(errno));
    LineParser parser(file.path);
    std::uint64_t consumed = 0;
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            throw std::runtime_error("cannot read the audit file " + file.path + ": " + std::strerror(errno));
        if (got == 0)
            break;
        consumed += static_cast<std::uint64_t>(got);
        for (auto &record : parser.feed(std::string_view(buffer, static_cast<std::size_t>(got))))
            result.records.push_back(std::move(record));
    }
    result.offset = offset + consumed - parser.partial_size();
    result.truncated = parser.has_partial_line();
    result.malformed_lines = parser.malformed_lines();
    return result;
}

json::object list_answer(const std::string &directory) {
    json::array sessions;
    for (const auto &file : list_session_files(directory))
        sessions.push_back(json::object{{"session", file.id()},
                                        {"started", file.started()},
                                        {"location", file.path},
                                        {"live", is_live(file.path)}});
    return json::object{{"location", directory}, {"sessions", std::move(sessions)}};
}

json::object read_answer(const std::string &directory, const std::string &wanted, std::uint64_t offset) {
    const SessionFile file = find_session(directory, wanted);
    SessionRead read = read_session(file, offset);
    json::array records;
    for (auto &record : read.records)
        records.push_back(std::move(record));
    return json::object{{"session", file.id()},
                        {"started", file.started()},
                        {"location", file.path},
                        {"records", std::move(records)},
                        {"offset", read.offset},
                        {"malformed_lines", read.malformed_lines},
                        {"truncated", read.truncated},
                        {"live", read.live}};
}

}  // namespace rustyolo::audit_file
