#include "core/config/project_file.hpp"

#include "core/config/mount_spec.hpp"
#include "core/error.hpp"
#include "core/host/paths.hpp"

#include <rustyolo/sdk/read_all.hpp>
#include <rustyolo/sdk/text.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

// The same bound as for the user's config file (config_toml.cc).
constexpr std::size_t kMaxProjectConfigBytes = 1 << 20;

bool same_or_inside(const std::string &path, const std::string &base) {
    const auto parts = text::path_components(path);
    const auto base_parts = text::path_components(base);
    return parts.size() >= base_parts.size() && std::equal(base_parts.begin(), base_parts.end(), parts.begin());
}

// Where `value` lies inside `project_dir`, or "" when it does not.
std::string inside_project(const std::string &value, const std::string &project_dir, const std::string &home) {
    fs::path path = expand_tilde(value, home);
    if (!path.is_absolute())
        path = fs::path(project_dir) / path;
    const std::string lexical = path.lexically_normal().string();
    if (same_or_inside(lexical, project_dir))
        return lexical;
    std::string canonical;
    try {
        canonical = canonicalize_path(lexical);
    } catch (const UsageError &) {
        return "";  // a loop or an unreadable path: the session itself refuses it with its reason
    }
    return same_or_inside(canonical, project_dir) ? canonical : "";
}

// Where `value` lies inside one of the read-write volume directories `writable`: "<path>, in the
// read-write volume <dir>", or "".
std::string inside_writable(const std::string &value, const std::string &project_dir, const std::string &home,
                            const std::vector<std::string> &writable) {
    if (writable.empty())
        return "";
    fs::path path = expand_tilde(value, home);
    if (!path.is_absolute())
        path = fs::path(project_dir) / path;
    std::string canonical;
    try {
        canonical = canonicalize_path(path.lexically_normal().string());
    } catch (const UsageError &) {
        return "";
    }
    for (const auto &dir : writable)
        if (same_or_inside(canonical, dir))
            return canonical + ", in the read-write volume " + dir;
    return "";
}

void check(std::vector<std::string> &findings, const std::string &what, const std::string &value,
           const std::string &project_dir, const std::string &home, const std::vector<std::string> &writable) {
    std::string where = inside_project(value, project_dir, home);
    if (where.empty())
        where = inside_writable(value, project_dir, home, writable);
    if (!where.empty())
        findings.push_back(what + " " + text::quoted(value) + " is " + where);
}

}  // namespace

std::optional<std::string> read_project_config(const std::string &path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw Error("cannot inspect " + path + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        throw UsageError(path + " is a symbolic link; rustyolo reads a project config only from a regular file in "
                         "the project (whoever can write the project can point a link at another file between "
                         "runs). Replace the link with the file it names, or remove it");
    if (!S_ISREG(st.st_mode))
        throw UsageError(path + " is not a regular file; a project config must be one. Remove or rename it");
    // O_NOFOLLOW and the checks on the open file: what is read is the regular file inspected.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        throw Error("cannot open " + path + ": " + std::strerror(errno));
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw UsageError(path + " changed while rustyolo read it (it is no longer a regular file); run again");
    ReadAll read = read_all(fd.get(), kMaxProjectConfigBytes);
    if (read.error != 0)
        throw Error("cannot read " + path + ": " + std::strerror(read.error));
    if (!read.content)
        throw UsageError(path + " is larger than " + std::to_string(kMaxProjectConfigBytes) +
                         " bytes, more than any config needs; shorten it or remove it");
    std::string content = std::move(*read.content);
    return content;
}

std::vector<std::string> read_write_volume_dirs(const std::vector<ConfigLayer> &layers, const std::string &home,
                                                const std::string &cwd) {
    std::vector<std::string> dirs;
    for (const auto &layer : layers)
        for (const auto &volume : layer.volumes) {
            try {
                const MountSpec spec = parse_mount_spec(volume, home, cwd);
                if (!spec.readonly)
                    dirs.push_back(spec.source);
            } catch (const UsageError &) {
            }
        }
    return dirs;
}

std::vector<std::string> paths_into_project(const ConfigLayer &project, const std::string &project_dir,
                                            const std::string &home, const std::vector<std::string> &writable) {
    std::vector<std::string> findings;
    for (const auto &plugin : project.plugins)
        if (plugin.find('/') != std::string::npos)  // a bare name is looked up in the plugin dirs
            check(findings, "plugins entry", plugin, project_dir, home, writable);
    if (project.seccomp_profile && *project.seccomp_profile != "default" && *project.seccomp_profile != "none")
        check(findings, "seccomp_profile", *project.seccomp_profile, project_dir, home, writable);
    // A volume or the auth home is writable by the agent anyway: only the project counts for them.
    for (const auto &volume : project.volumes) {
        const std::size_t colon = volume.find(':');
        check(findings, "volumes entry " + text::quoted(volume) + ": its host path",
              volume.substr(0, colon == std::string::npos ? volume.size() : colon), project_dir, home, {});
    }
    if (project.auth_home)
        check(findings, "auth_home", *project.auth_home, project_dir, home, {});
    if (project.audit_dir)
        check(findings, "audit_dir", *project.audit_dir, project_dir, home, writable);
    if (project.audit_syslog_socket)
        check(findings, "audit_syslog_socket", *project.audit_syslog_socket, project_dir, home, writable);
    return findings;
}

std::string paths_into_project_error(const std::string &path, const std::vector<std::string> &findings) {
    std::string message = path + " names paths inside the project or a read-write volume, which the agent can "
                                 "rewrite or re-point before the next run (trusting the file covers its text, not "
                                 "the files it names), so it is refused even when trusted:";
    for (const auto &finding : findings)
        message += "\n  - " + finding;
    message += "\nMove those files to a directory that no session mounts read-write (for example "
               "~/.config/rustyolo/, outside the agents' state directories in it) and name them there, or set "
               "them in your user config or on the command line instead";
    return message;
}

}  // namespace rustyolo
