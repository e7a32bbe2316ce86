#include "core/config/mount_spec.hpp"

#include "core/error.hpp"
#include <rustyolo/sdk/text.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

namespace rustyolo {
namespace {

using text::quoted;

// Symlinks followed while canonicalising one path before it counts as a loop (Linux's limit).
constexpr int max_symlinks = 40;

// Container paths the sandbox itself owns: a volume there would hide or replace what the
// entrypoint relies on (procfs, sysfs, devices, the Plan and audit socket, users and resolv.conf).
// Container paths the sandbox itself manages: a volume may be neither there, inside, nor above one
// (above, it would hide it). The system's programs and libraries are among them: the supervisor runs
// as root in the container and loads them (libc, libnftables, its plugins in /usr/lib/rustyolo,
// iptables in /usr/sbin), so a volume there would hand it code the agent may have written. The
// same list is in plugins/mount-guard/mount_rules.cc.
constexpr std::array<std::string_view, 15> reserved_targets = {
    "/proc",      "/sys",      "/dev",  "/run/rustyolo", "/etc",   "/usr/lib", "/usr/lib32", "/usr/lib64",
    "/usr/libx32", "/usr/sbin", "/lib", "/lib32",        "/lib64", "/libx32", "/sbin"};


std::string join(const std::string &base, std::string_view name) {
    return base == "/" ? "/" + std::string(name) : base + "/" + std::string(name);
}

std::string parent_of(const std::string &path) {
    std::size_t slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}


bool has_control_character(std::string_view value) {
    for (char c : value) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f)
            return true;
    }
    return false;
}

std::string read_link(const std::string &path) {
    std::string buffer(256, '\0');
    for (;;) {
        ssize_t length = ::readlink(path.c_str(), buffer.data(), buffer.size());
        if (length < 0)
            throw UsageError("cannot read symlink " + quoted(path) + ": " + std::strerror(errno));
        if (static_cast<std::size_t>(length) < buffer.size()) {
            buffer.resize(static_cast<std::size_t>(length));
            return buffer;
        }
        if (buffer.size() >= PATH_MAX)
            throw UsageError("cannot read symlink " + quoted(path) + ": target longer than PATH_MAX");
        buffer.resize(buffer.size() * 2);
    }
}

// The walk behind canonicalize_path() for paths that realpath(3) cannot resolve because a part is
// missing. `resolved` is always canonical (no symlinks), so ".." on it is a lexical step; once a
// component is missing, everything after it is missing too and is kept lexically until a ".."
// climbs back into the existing part, where resolution resumes.
std::string canonicalize_walk(const std::string &path) {
    std::deque<std::string> todo;
    for (auto &part : text::path_components(path))
        todo.push_back(std::move(part));
    std::string resolved = "/";
    std::vector<std::string> missing;
    int links = 0;
    while (!todo.empty()) {
        std::string part = std::move(todo.front());
        todo.pop_front();
        if (part == ".")
            continue;
        if (part == "..") {
            if (!missing.empty())
                missing.pop_back();
            else
                resolved = parent_of(resolved);
            continue;
        }
        if (!missing.empty()) {
            missing.push_back(std::move(part));
            continue;
        }
        std::string candidate = join(resolved, part);
        struct stat st {};
        if (::lstat(candidate.c_str(), &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                missing.push_back(std::move(part));
                continue;
            }
            throw UsageError("cannot inspect " + quoted(candidate) + " (while resolving " + quoted(path) +
                             "): " + std::strerror(errno));
        }
        if (!S_ISLNK(st.st_mode)) {
            resolved = std::move(candidate);
            continue;
        }
        if (++links > max_symlinks)
            throw UsageError("cannot resolve " + quoted(path) + ": more than " +
                             std::to_string(max_symlinks) + " symlinks (a symlink loop?)");
        std::string target = read_link(candidate);
        auto target_parts = text::path_components(target);
        todo.insert(todo.begin(), target_parts.begin(), target_parts.end());
        if (!target.empty() && target.front() == '/')
            resolved = "/";
    }
    for (const auto &part : missing)
        resolved = join(resolved, part);
    return resolved;
}

std::string spec_error(std::string_view spec, std::string_view reason, std::string_view fix) {
    return "volume " + quoted(spec) + ": " + std::string(reason) + "; " + std::string(fix);
}

// Checks that `target` is absolute, lexically normal, not "/" and outside the reserved paths.
void validate_target(std::string_view spec, const std::string &target) {
    if (target.front() != '/')
        throw UsageError(spec_error(spec, "the container path " + quoted(target) + " is not absolute",
                                    "write an absolute path such as /data"));
    if (target.find_first_of(",\"") != std::string::npos)
        throw UsageError(spec_error(spec,
                                    "the container path " + quoted(target) +
                                        " contains ',' or '\"', which the runtime's --mount syntax cannot carry",
                                    "choose a container path without them"));
    auto parts = text::path_components(target);
    std::string normal = "/";
    bool dot_parts = false;
    for (const auto &part : parts) {
        if (part == "." || part == "..")
            dot_parts = true;
        normal = join(normal, part);
    }
    if (dot_parts)
        throw UsageError(spec_error(spec, "the container path " + quoted(target) + " contains '.' or '..'",
                                    "write it without them, e.g. /data"));
    if (normal != target)
        throw UsageError(spec_error(spec, "the container path " + quoted(target) + " is not in normal form",
                                    "write it as " + normal));
    if (normal == "/")
        throw UsageError(spec_error(spec, "the container path is \"/\", which would replace the whole sandbox",
                                    "mount under a directory such as /data"));
    for (std::string_view reserved : reserved_targets) {
        bool equal = normal == reserved;
        bool inside = normal.size() > reserved.size() && normal.compare(0, reserved.size(), reserved) == 0 &&
                      normal[reserved.size()] == '/';
        bool above = reserved.size() > normal.size() && reserved.compare(0, normal.size(), normal) == 0 &&
                     reserved[normal.size()] == '/';
        if (equal || inside || above)
            throw UsageError(spec_error(spec,
                                        "the container path " + quoted(target) + " " +
                                            (equal ? "is " : inside ? "is inside " : "contains ") +
                                            std::string(reserved) + ", which the sandbox itself manages",
                                        "choose another container path such as /data"));
    }
}

// Expands "~" and "~/..." with `home`, and makes a relative path absolute against `cwd`.
std::string absolute_host_path(std::string_view spec, std::string_view host, const std::string &home,
                               const std::string &cwd) {
    std::string path(host);
    if (host.front() == '~') {
        if (host.size() > 1 && host[1] != '/')
            throw UsageError(spec_error(spec, "\"~user\" paths are not supported",
                                        "write the absolute host path instead"));
        if (home.empty() || home.front() != '/')
            throw UsageError(spec_error(spec, "the host path starts with '~' but the home directory is unknown",
                                        "set HOME or write the absolute host path"));
        path = home + std::string(host.substr(1));
    } else if (host.front() != '/') {
        if (cwd.empty() || cwd.front() != '/')
            throw UsageError(spec_error(spec, "the host path is relative but the working directory is unknown",
                                        "write the absolute host path"));
        path = cwd + "/" + path;
    }
    if (path.size() >= PATH_MAX)
        throw UsageError(spec_error(spec, "the host path is longer than PATH_MAX", "use a shorter path"));
    return path;
}

}  // namespace

std::string canonicalize_path(const std::string &path) {
    if (path.empty() || path.front() != '/')
        throw UsageError("cannot canonicalise " + quoted(path) + ": not an absolute path");
    if (path.find('\0') != std::string::npos)
        throw UsageError("cannot canonicalise " + quoted(path) + ": it contains a NUL byte");
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    if (real)
        return real.get();
    return canonicalize_walk(path);
}

std::string file_type_of(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return "missing";
        throw UsageError("cannot inspect " + quoted(path) + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        return "directory";
    if (S_ISREG(st.st_mode))
        return "regular";
    if (S_ISSOCK(st.st_mode))
        return "socket";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        return "device";
    if (S_ISFIFO(st.st_mode))
        return "fifo";
    return "other";
}

MountSpec parse_mount_spec(std::string_view spec, const std::string &home, const std::string &cwd) {
    if (spec.empty())
        throw UsageError(spec_error(spec, "the volume is empty", "write host:container, e.g. ./data:/data"));
    if (has_control_character(spec))
        throw UsageError(spec_error(spec, "it contains control characters", "remove them"));

    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        std::size_t colon = spec.find(':', start);
        fields.push_back(spec.substr(start, colon == std::string_view::npos ? colon : colon - start));
        if (colon == std::string_view::npos)
            break;
        start = colon + 1;
    }
    if (fields.size() < 2)
        throw UsageError(spec_error(spec, "the container path is missing",
                                    "write host:container[:ro|rw], e.g. ./data:/data:ro"));
    if (fields.size() > 3)
        throw UsageError(spec_error(spec, "too many ':' (paths containing ':' are not supported)",
                                    "write host:container[:ro|rw]"));
    if (fields[0].empty())
        throw UsageError(spec_error(spec, "the host path is empty", "write host:container, e.g. ./data:/data"));
    if (fields[1].empty())
        throw UsageError(spec_error(spec, "the container path is empty", "write host:container, e.g. ./data:/data"));

    MountSpec result;
    result.requested = std::string(spec);
    if (fields.size() == 3) {
        if (fields[2] == "ro")
            result.readonly = true;
        else if (fields[2] != "rw")
            throw UsageError(spec_error(spec, "unknown option " + quoted(fields[2]),
                                        "use \":ro\" for read-only or \":rw\" (the default) for read-write"));
    }
    result.target = std::string(fields[1]);
    validate_target(spec, result.target);
    std::string host = absolute_host_path(spec, fields[0], home, cwd);
    try {
        result.source = canonicalize_path(host);
        result.file_type = file_type_of(result.source);
    } catch (const UsageError &e) {
        throw UsageError(spec_error(spec, e.what(), "fix the host path or its permissions"));
    }
    return result;
}

}  // namespace rustyolo
