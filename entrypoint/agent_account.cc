#include "entrypoint/agent_account.hpp"

#include "entrypoint/files.hpp"

#include "entrypoint/setup_error.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace rustyolo::entrypoint {

namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
    std::vector<std::string_view> fields;
    for (;;) {
        auto pos = line.find(sep);
        fields.push_back(line.substr(0, pos));
        if (pos == std::string_view::npos)
            return fields;
        line.remove_prefix(pos + 1);
    }
}

// Calls fn(entry) for each well-formed line; stops when fn returns true.
template <class Fn>
std::optional<DbEntry> scan(std::string_view text, std::size_t min_fields, Fn &&match) {
    for (std::string_view line : split(text, '\n')) {
        if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-')
            continue;
        auto fields = split(line, ':');
        if (fields.size() < min_fields || fields[0].empty())
            continue;
        DbEntry entry;
        entry.name = std::string(fields[0]);
        const auto id = fields[2];
        auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), entry.id);
        if (ec != std::errc() || end != id.data() + id.size() || id.empty())
            continue;
        if (match(entry))
            return entry;
    }
    return std::nullopt;
}

// The account databases: regular files, never through a symlink, of a sane size.
std::string read_nofollow(const std::string &path) { return read_regular_file(path, 16 * 1024 * 1024); }

// Appends one line with a single write(2); never follows a symlink planted at `path`.
void append_nofollow(const std::string &path, const std::string &existing, std::string line) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        throw_errno("cannot open " + path + " for writing");
    if (!existing.empty() && existing.back() != '\n')
        line.insert(line.begin(), '\n');
    ssize_t n = ::write(fd.get(), line.data(), line.size());
    if (n < 0)
        throw_errno("cannot write " + path);
    if (static_cast<std::size_t>(n) != line.size())
        throw std::runtime_error("short write to " + path);
}

// Creates `path` (never through a symlink, never over an existing file) with `text`, mode 0644.
void create_with(const std::string &path, const std::string &text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        throw_errno("cannot create " + path +
                    " (the runtime mounts a tmpfs owned by root at " + kSupervisorContainerDir + ")");
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw_errno("cannot write " + path);
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), 0644) != 0)
        throw_errno("cannot chmod " + path);
}

void copy_base(const std::string &base, const std::string &path) {
    if (!base.empty())
        create_with(path, read_regular_file(base, 16 * 1024 * 1024,
                                            " (the image keeps its account databases there; rebuild it with "
                                            "`rustyolo image build`)"));
}

void require_valid_name(const std::string &name) {
    const bool ok = !name.empty() && name.size() <= 32 &&
                    (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                        return std::islower(static_cast<unsigned char>(c)) ||
                               std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                    });
    if (!ok)
        throw std::runtime_error("plan: /user/name \"" + name +
                                 "\" is not a valid user name ([a-z_][a-z0-9_-]*)");
}

void require_valid_home(const std::string &home) {
    if (home.empty() || home.front() != '/' || home.find_first_of(":\n") != std::string::npos)
        throw std::runtime_error("plan: /user/home \"" + home +
                                 "\" is not an absolute path usable in /etc/passwd");
}

// The runtime mounts the home as a tmpfs owned by the agent; only look, never fix (no chown).
void check_home(const std::string &home, uid_t uid) {
    struct stat st {};
    if (::lstat(home.c_str(), &st) != 0) {
        spdlog::warn(
            "user: the agent's home {} does not exist ({}); tools that write settings there will fail", home,
            std::strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid)
        spdlog::warn("user: the agent's home {} is not a directory owned by uid {} (the runtime should mount "
                     "a tmpfs there owned by it); tools that write settings there will fail",
                     home, uid);
}

std::string default_shell() { return ::access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh"; }

}  // namespace

std::optional<DbEntry> find_passwd_by_uid(std::string_view passwd, unsigned long uid) {
    return scan(passwd, 7, [&](const DbEntry &e) { return e.id == uid; });
}
std::optional<DbEntry> find_passwd_by_name(std::string_view passwd, std::string_view name) {
    return scan(passwd, 7, [&](const DbEntry &e) { return e.name == name; });
}
std::optional<DbEntry> find_group_by_gid(std::string_view group, unsigned long gid) {
    return scan(group, 3, [&](const DbEntry &e) { return e.id == gid; });
}
std::optional<DbEntry> find_group_by_name(std::string_view group, std::string_view name) {
    return scan(group, 3, [&](const DbEntry &e) { return e.name == name; });
}

AgentAccount ensure_agent_account(const PlanUser &user, const AccountFiles &files) {
    if (user.uid == 0 || user.gid == 0)
        throw std::runtime_error("the agent must not run as uid or gid 0");
    require_valid_name(user.name);
    require_valid_home(user.home);

    AgentAccount account{user.uid, user.gid, user.name, user.home, default_shell()};
    copy_base(files.base_group, files.group);
    copy_base(files.base_passwd, files.passwd);

    const std::string group = read_nofollow(files.group);
    if (!find_group_by_gid(group, user.gid)) {
        if (auto taken = find_group_by_name(group, user.name))
            throw std::runtime_error(files.group + " already has a group named " + user.name + " with gid " +
                                     std::to_string(taken->id) + ", not " + std::to_string(user.gid) +
                                     "; the image must not define it");
        append_nofollow(files.group, group, user.name + ":x:" + std::to_string(user.gid) + ":\n");
        spdlog::debug("user: added group {} ({})", user.name, user.gid);
    }

    const std::string passwd = read_nofollow(files.passwd);
    if (auto existing = find_passwd_by_uid(passwd, user.uid)) {
        // Reuse the image's entry for this uid (its name). HOME stays the Plan's and SHELL ours:
        // a system account's shell is often nologin, which would break every tool that runs $SHELL.
        account.name = existing->name;
        spdlog::debug("user: uid {} is {} in {}; HOME is still {}", user.uid, account.name, files.passwd,
                      user.home);
    } else {
        if (auto taken = find_passwd_by_name(passwd, user.name))
            throw std::runtime_error(files.passwd + " already has a user named " + user.name + " with uid " +
                                     std::to_string(taken->id) + ", not " + std::to_string(user.uid) +
                                     "; the image must not define it");
        append_nofollow(files.passwd, passwd,
                        user.name + ":x:" + std::to_string(user.uid) + ":" + std::to_string(user.gid) +
                            ":rustyolo agent:" + user.home + ":" + account.shell + "\n");
        spdlog::debug("user: added {} ({}:{}) with home {}", user.name, user.uid, user.gid, user.home);
    }
    check_home(user.home, user.uid);
    return account;
}

}  // namespace rustyolo::entrypoint
