#include "core/host/placeholders.hpp"

#include "core/error.hpp"
#include "core/host/paths.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace rustyolo {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char *kRecordSuffix = ".json";

std::string errno_text() { return std::strerror(errno); }

UniqueFd open_locked(const fs::path &path, int flags, int lock) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        throw Error("cannot open " + path.string() + ": " + errno_text());
    int rc;
    do
        rc = ::flock(fd.get(), lock);
    while (rc != 0 && errno == EINTR);
    if (rc != 0)
        throw Error("cannot lock " + path.string() + ": " + errno_text());
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::vector<Placeholder> parse_record(const std::string &text) {
    std::vector<Placeholder> out;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return out;
    const json::value *list = v.as_object().if_contains("placeholders");
    if (!list || !list->is_array())
        return out;
    for (const auto &item : list->as_array()) {
        if (!item.is_object())
            continue;
        const auto &o = item.as_object();
        const auto *path = o.if_contains("path");
        const auto *dir = o.if_contains("directory");
        const auto *content = o.if_contains("content");
        if (path && path->is_string() && dir && dir->is_bool() && content && content->is_string())
            out.push_back({std::string(path->as_string()), dir->as_bool(), std::string(content->as_string())});
    }
    return out;
}

// The directory that holds `path`, opened without following a symbolic link anywhere on the way:
// the CLI may be root, and another session's agent may have replaced a directory of the project
// with a link. (Placeholder paths are under the canonical project path, which has no links.)
UniqueFd open_parent(const fs::path &path) {
    UniqueFd fd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto &part : path.parent_path().relative_path()) {
        if (!fd)
            break;
        fd = UniqueFd(::openat(fd.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    return fd;
}

// Removes a placeholder only if it is still exactly as created.
void remove_if_unchanged(const fs::path &project, const Placeholder &p) {
    const fs::path rel = fs::path(p.path).lexically_normal();
    if (rel.empty() || rel.is_absolute() || *rel.begin() == "..")
        return;  // not a record of ours
    const fs::path path = project / rel;
    UniqueFd dir = open_parent(path);
    if (!dir)
        return;
    const std::string name = path.filename().string();
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    if (p.directory) {
        if (S_ISDIR(st.st_mode))
            ::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR);  // fails, harmlessly, when not empty
        return;
    }
    if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) != p.content.size())
        return;
    UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd && read_all(fd.get()) == p.content)
        ::unlinkat(dir.get(), name.c_str(), 0);
}

// The registry's records: what live sessions hold, and the records (and holdings) of dead ones.
struct DeadSession {
    std::string session;
    json::value git_snapshot;
};
struct Registry {
    std::set<std::string> live;  // paths held by a live session
    std::vector<Placeholder> orphans;
    std::vector<fs::path> dead_records;
    std::vector<DeadSession> dead_sessions;  // those with a git snapshot
};

// A session id as new_session_id() makes them (it names aside entries in the project).
bool plain_session_id(const std::string &id) {
    return !id.empty() && id.size() <= 64 &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

DeadSession dead_session_of(const std::string &text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return {};
    const auto &o = v.as_object();
    const auto *id = o.if_contains("session");
    const auto *snap = o.if_contains("git_snapshot");
    if (!id || !id->is_string() || !plain_session_id(std::string(id->as_string())) || !snap || !snap->is_object())
        return {};
    return {std::string(id->as_string()), *snap};
}

Registry read_registry(const fs::path &dir, const std::string &own_record) {
    Registry reg;
    DIR *d = ::opendir(dir.c_str());
    if (!d)
        throw Error("cannot read the placeholder registry " + dir.string() + ": " + errno_text());
    std::vector<std::string> names;
    while (const dirent *e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > std::strlen(kRecordSuffix) && name.ends_with(kRecordSuffix) && name != own_record)
            names.push_back(name);
    }
    ::closedir(d);
    for (const auto &name : names) {
        const fs::path path = dir / name;
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd)
            continue;
        // A live session holds its record's flock for its whole life.
        const bool dead = ::flock(fd.get(), LOCK_SH | LOCK_NB) == 0;
        const std::string text = read_all(fd.get());
        auto holdings = parse_record(text);
        if (dead) {
            reg.orphans.insert(reg.orphans.end(), holdings.begin(), holdings.end());
            reg.dead_records.push_back(path);
            if (DeadSession s = dead_session_of(text); !s.session.empty())
                reg.dead_sessions.push_back(std::move(s));
        } else {
            for (const auto &p : holdings)
                reg.live.insert(p.path);
        }
    }
    return reg;
}

// Removes the given placeholders that no live session holds (innermost first), then the dead
// sessions' records.
void remove_unheld(const fs::path &project, std::vector<Placeholder> candidates, const Registry &reg) {
    std::sort(candidates.begin(), candidates.end(),
              [](const Placeholder &a, const Placeholder &b) { return a.path.size() > b.path.size(); });
    for (const auto &p : candidates)
        if (!reg.live.count(p.path))
            remove_if_unchanged(project, p);
    for (const auto &record : reg.dead_records)
        ::unlink(record.c_str());
}

}  // namespace

std::string placeholder_registry_dir(const std::string &registry_base, const fs::path &project) {
    struct stat st {};
    if (::stat(project.c_str(), &st) != 0)
        throw Error("cannot find the project directory " + project.string() + " for its placeholder registry: " +
                    errno_text());
    if (!S_ISDIR(st.st_mode))
        throw Error("the project " + project.string() + " is not a directory");
    char key[40];
    std::snprintf(key, sizeof key, "%llx-%llx", static_cast<unsigned long long>(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    return registry_base + "/projects/" + key;
}

namespace {

// What a dead session left besides placeholders: its agent's additions to the git dirs.
void handle_dead(const Registry &reg, const DeadSessionHandler &on_dead) {
    if (!on_dead)
        return;
    for (const auto &dead : reg.dead_sessions) {
        try {
            on_dead(dead.session, dead.git_snapshot);
        } catch (const std::exception &e) {
            spdlog::warn("what the killed session {} added to the project's git metadata could not be moved "
                         "aside: {}",
                         dead.session, e.what());
        }
    }
}

}  // namespace

ProjectPlaceholders::ProjectPlaceholders(const std::string &registry_base, const fs::path &project,
                                         const std::string &session, DeadSessionHandler on_dead)
    : project_(project), real_project_(fs::canonical(project)), dir_(placeholder_registry_dir(registry_base, project)),
      session_(session), on_dead_(std::move(on_dead)) {
    make_private_dir(registry_base);
    make_private_dir(dir_.parent_path().string());
    make_private_dir(dir_.string());
    lock_ = open_locked(dir_ / "lock", O_RDWR | O_CREAT, LOCK_EX);
    record_ = open_locked(dir_ / (session_ + kRecordSuffix), O_RDWR | O_CREAT | O_EXCL, LOCK_EX | LOCK_NB);
    write_record();
    Registry reg = read_registry(dir_, session_ + kRecordSuffix);
    handle_dead(reg, on_dead_);
    remove_unheld(real_project_, reg.orphans, reg);
    live_ = std::move(reg.live);  // cannot change while the registry's lock is ours
}

ProjectPlaceholders::~ProjectPlaceholders() {
    try {
        release();
    } catch (const std::exception &e) {
        spdlog::warn("placeholders of this session could not be removed: {}", e.what());
    }
}

bool ProjectPlaceholders::hold(const fs::path &path, bool directory, std::string_view content, unsigned owner_uid,
                               unsigned owner_gid) {
    if (!lock_)
        throw Error("internal: placeholder registry used after the start-up");
    const std::string rel = path.lexically_relative(project_).lexically_normal().string();
    if (rel.empty() || rel == "." || rel.rfind("..", 0) == 0)
        throw Error("internal: the placeholder " + path.string() + " is not inside the project " + project_.string());
    for (const auto &p : held_)
        if (p.path == rel)
            return true;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        // Another live session's placeholder, or a path of the project's own.
        if (!live_.count(rel))
            return false;
        held_.push_back({rel, S_ISDIR(st.st_mode), std::string(content)});
        write_record();
        return true;
    }
    UniqueFd dir = open_parent(path);
    const std::string name = path.filename().string();
    int rc = dir ? 0 : -1;
    if (dir && directory) {
        rc = ::mkdirat(dir.get(), name.c_str(), 0755);
    } else if (dir) {
        UniqueFd fd(::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        rc = fd ? 0 : -1;
        if (fd && !content.empty() &&
            ::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
            rc = -1;
    }
    if (rc != 0)
        throw Error("cannot create the read-only placeholder " + path.string() + ": " + errno_text() +
                    " (a directory on the way must not be a symbolic link)");
    // Recorded before anything else can fail, so that it is removed whatever happens next.
    held_.push_back({rel, directory, std::string(content)});
    write_record();
    if (::geteuid() == 0 && ::fchownat(dir.get(), name.c_str(), owner_uid, owner_gid, AT_SYMLINK_NOFOLLOW) != 0)
        throw Error("cannot give the placeholder " + path.string() + " to uid " + std::to_string(owner_uid) + ": " +
                    errno_text());
    return true;
}

void ProjectPlaceholders::set_git_snapshot(json::value snapshot) {
    if (!lock_)
        throw Error("internal: placeholder registry used after the start-up");
    git_snapshot_ = std::move(snapshot);
    write_record();
}

void ProjectPlaceholders::commit() { lock_.reset(); }

void ProjectPlaceholders::write_record() {
    json::array list;
    for (const auto &p : held_)
        list.push_back(json::object{{"path", p.path}, {"directory", p.directory}, {"content", p.content}});
    json::object record{{"session", session_}, {"placeholders", list}};
    if (!git_snapshot_.is_null())
        record["git_snapshot"] = git_snapshot_;
    const std::string text = json::serialize(record);
    if (::ftruncate(record_.get(), 0) != 0 ||
        ::pwrite(record_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw Error("cannot write the placeholder record in " + dir_.string() + ": " + errno_text());
}

void ProjectPlaceholders::release() {
    if (!record_)
        return;
    if (!lock_)
        lock_ = open_locked(dir_ / "lock", O_RDWR | O_CREAT, LOCK_EX);
    ::unlink((dir_ / (session_ + kRecordSuffix)).c_str());
    record_.reset();
    Registry reg = read_registry(dir_, session_ + kRecordSuffix);
    handle_dead(reg, on_dead_);
    std::vector<Placeholder> mine = held_;
    mine.insert(mine.end(), reg.orphans.begin(), reg.orphans.end());
    remove_unheld(real_project_, std::move(mine), reg);
    lock_.reset();
}

}  // namespace rustyolo
