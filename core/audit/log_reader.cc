#include "core/audit/log_reader.hpp"

#include "core/audit/record.hpp"
#include "core/error.hpp"
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

namespace rustyolo::audit_reader {

namespace json = boost::json;

namespace {

// A line longer than this is not a record (records are at most a few KiB).
constexpr std::size_t kMaxLine = 1 << 20;

std::string string_field(const json::object &object, std::string_view key) {
    const auto *value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

// A JSON value as it reads after "key=": strings printable (escaped, quoted when they hold blanks),
// anything else as compact JSON, escaped too.
std::string show_value(const json::value &value) {
    if (value.is_string()) {
        const std::string_view s(value.as_string().data(), value.as_string().size());
        const bool plain = !s.empty() && std::none_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '"'; });
        return plain ? text::printable(s) : text::quoted(s);
    }
    return text::printable(json::serialize(value));
}

}  // namespace

std::vector<SessionFile> list_session_files(const std::string &directory) {
    struct stat st {};
    if (::lstat(directory.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return {};
        throw Error("cannot read the audit directory " + directory + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        throw Error("the audit directory " + directory + " is a symlink; rustyolo does not follow it. Give the "
                    "real directory with [security] audit_dir");
    if (!S_ISDIR(st.st_mode))
        throw Error("the audit directory " + directory + " is not a directory");
    if (st.st_uid != ::geteuid())
        throw Error("the audit directory " + directory + " is owned by uid " + std::to_string(st.st_uid) +
                    ", not by you; its records cannot be trusted. Use a directory of your own");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        throw Error("the audit directory " + directory + " is writable by group or others, so its records "
                    "cannot be trusted; run `chmod go-w " + directory + "`");

    std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(directory.c_str()), &::closedir);
    if (!dir)
        throw Error("cannot read the audit directory " + directory + ": " + std::strerror(errno));
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
        if (schema == nullptr || !schema->is_int64() || schema->as_int64() != audit::kSchema) {
            const std::string shown = schema ? text::printable(json::serialize(*schema)) : "missing";
            throw Error(file_ + ":" + std::to_string(line_) + ": audit record schema " + shown +
                        "; this rustyolo reads schema " + std::to_string(audit::kSchema) +
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
        throw Error("cannot open the audit file " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw Error("the audit file " + path + " is not a regular file");
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

void account(SessionInfo &info, const json::object &record) {
    ++info.records;
    if (info.session.empty())
        info.session = string_field(record, "session");
    if (info.records == 1 && !string_field(record, "time").empty())
        info.started = string_field(record, "time");
    const std::string layer = string_field(record, "layer");
    const std::string verdict = string_field(record, "verdict");
    const std::string event = string_field(record, "event");
    const auto *details_value = record.if_contains("details");
    const json::object empty;
    const json::object &details = details_value && details_value->is_object() ? details_value->as_object() : empty;

    if (verdict == "block") {
        // As many events as the record stands for (a network "lost" record its count, a
        // resource record its "new").
        info.blocked += audit::weight(record);
        if (layer == "dns")
            info.dns_block_keys.insert(audit::summary_key(record));
    }
    if (layer != "lifecycle")
        return;
    auto positive = [](const json::value &n) -> std::uint64_t {
        return n.is_int64() && n.as_int64() > 0 ? static_cast<std::uint64_t>(n.as_int64()) : 0;
    };
    if (event == "start") {
        info.agent = string_field(details, "agent");
        info.level = string_field(details, "level");
    } else if (event == "exit") {
        if (const auto *code = details.if_contains("exit_code"); code && code->is_int64())
            info.exit_code = code->as_int64();
    } else if (event == "suppressed") {
        const auto *counts = details.if_contains("counts");
        if (!counts || !counts->is_object())
            return;
        for (const auto &[key, count] : counts->as_object()) {
            // The schema's form: verdict -> key -> n; only "block" counts are blocks.
            if (count.is_object()) {
                if (key == "block")
                    for (const auto &[k, n] : count.as_object()) {
                        (void)k;
                        info.blocked += positive(n);
                    }
                continue;
            }
            // An older flat form, key -> n.
            if (!count.is_int64() || count.as_int64() <= 0)
                continue;
            const std::string_view k(key.data(), key.size());
            // Lifecycle records are facts, not blocks; at verbose a dns key may be an allow.
            if (k.starts_with("lifecycle "))
                continue;
            if (k.starts_with("dns ") && info.level == "verbose" && !info.dns_block_keys.contains(std::string(k)))
                continue;
            info.blocked += static_cast<std::uint64_t>(count.as_int64());
        }
        // Records the supervisor could not even count by key.
        if (const auto *lost = details.if_contains("lost"); lost && lost->is_object())
            if (const auto *n = lost->as_object().if_contains("block"))
                info.blocked += positive(*n);
    } else if (event == "transport") {
        // Blocked events that lines the host refused stood for.
        if (const auto *events = details.if_contains("events"); events && events->is_object())
            if (const auto *n = events->as_object().if_contains("block"))
                info.blocked += positive(*n);
    } else if (event == "dropped") {
        // The file reached its cap (docs/audit.md): the host's exact total is in this last record.
        if (const auto *blocked = details.if_contains("blocked"); blocked && blocked->is_int64())
            info.blocked = positive(*blocked);
    }
}

bool read_records(int fd, const std::string &path, LineParser &parser, std::vector<json::object> &records) {
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            throw Error("cannot read the audit file " + path + ": " + std::strerror(errno));
        if (got == 0)
            return false;
        for (auto &record : parser.feed(std::string_view(buffer, static_cast<std::size_t>(got))))
            records.push_back(std::move(record));
        return true;
    }
}

SessionRecords read_session(const SessionFile &file) {
    UniqueFd fd(open_session_file(file.path));
    SessionRecords result;
    LineParser parser(file.path);
    while (read_records(fd.get(), file.path, parser, result.records)) {
    }
    for (const auto &record : result.records)
        account(result.info, record);
    result.info.truncated = parser.has_partial_line();
    result.info.malformed_lines = parser.malformed_lines();
    if (result.info.started.empty())
        result.info.started = file.name.substr(0, std::min<std::size_t>(24, file.name.size()));
    if (result.info.session.empty()) {
        const std::string stem = file.name.substr(0, file.name.size() - 6);
        result.info.session = stem.substr(stem.rfind('-') + 1);
    }
    result.info.live = is_live(file.path);
    return result;
}

std::string format_record(const json::object &record) {
    std::string line = text::printable(string_field(record, "time"));
    std::string verdict = text::printable(string_field(record, "verdict"));
    verdict.resize(std::max<std::size_t>(verdict.size(), 5), ' ');
    line += "  " + verdict + "  " + text::printable(string_field(record, "layer")) + "/" +
            text::printable(string_field(record, "event"));
    if (string_field(record, "layer") != "lifecycle")
        line += "  " + audit::summary_key(record);  // printable by construction
    if (const auto *details = record.if_contains("details"); details && details->is_object()) {
        for (const auto &[key, value] : details->as_object()) {
            if (value.is_null())
                continue;
            line += "  " + text::printable(std::string_view(key.data(), key.size())) + "=" + show_value(value);
        }
    }
    return line;
}

}  // namespace rustyolo::audit_reader
