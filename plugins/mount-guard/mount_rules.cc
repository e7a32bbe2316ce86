#include "plugins/mount-guard/mount_rules.hpp"

#include <rustyolo/sdk/text.hpp>

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

namespace rustyolo::mount_guard {
namespace {

using text::quoted;

// Read-only never makes a refused path acceptable, for any rule below:
//  - sockets and container-engine paths: connect() works on a read-only bind mount, so a read-only
//    docker.sock is still root on the host;
//  - devices: reading a raw disk device reads every file on it, whatever the file permissions;
//  - secret directories: reading is the harm (`~/.ssh:ro`, as the seed's example mounts it, still
//    hands the agent your private keys, which it can copy out through any allowed destination);
//  - sensitive roots: /proc, /sys, /etc, /root... leak host secrets and state when only read.
// There is no override: a user who really wants one of these inside a sandbox does not want this
// sandbox. Every reason says so, so nobody goes looking for a flag.

enum class Relation { none, same, inside, ancestor };

// One protected location. `pattern` is absolute or starts with "~/" (relative to the user's home);
// each component may be a glob ("*", "ssh-*") matching exactly one component.
struct Protected {
    std::string_view pattern;
    std::string_view rule;
    std::string_view what;  // what lives there, for the reason
    bool inside;            // also refuse anything inside it (false only for "/")
};

constexpr std::array protected_paths = {
    // Secrets in the user's home.
    Protected{"~/.ssh", "secret-dir", "your SSH keys directory (~/.ssh)", true},
    Protected{"~/.gnupg", "secret-dir", "your GnuPG keys directory (~/.gnupg)", true},
    Protected{"~/.aws", "secret-dir", "your AWS credentials directory (~/.aws)", true},
    Protected{"~/.kube", "secret-dir", "your Kubernetes credentials directory (~/.kube)", true},
    Protected{"~/.docker", "secret-dir", "your Docker credentials directory (~/.docker)", true},
    Protected{"~/.config/gcloud", "secret-dir", "your Google Cloud credentials directory (~/.config/gcloud)", true},
    Protected{"~/.azure", "secret-dir", "your Azure credentials directory (~/.azure)", true},
    Protected{"~/.netrc", "secret-dir", "your .netrc password file (~/.netrc)", true},
    Protected{"~/.password-store", "secret-dir", "your password store (~/.password-store)", true},
    Protected{"~/.local/share/keyrings", "secret-dir", "your desktop keyrings directory (~/.local/share/keyrings)",
              true},
    // Container engines and their sockets, including rootless and desktop variants. Refused whether
    // or not they exist now: the engine may create them later.
    Protected{"/var/run/docker.sock", "engine-socket", "the Docker socket", true},
    Protected{"/run/docker.sock", "engine-socket", "the Docker socket", true},
    Protected{"/var/run/docker", "engine-socket", "Docker's runtime directory", true},
    Protected{"/run/docker", "engine-socket", "Docker's runtime directory", true},
    Protected{"/run/containerd", "engine-socket", "containerd's socket directory", true},
    Protected{"/var/run/containerd", "engine-socket", "containerd's socket directory", true},
    Protected{"/run/podman", "engine-socket", "Podman's socket directory", true},
    Protected{"/var/run/podman", "engine-socket", "Podman's socket directory", true},
    Protected{"/run/crio", "engine-socket", "CRI-O's socket directory", true},
    Protected{"/var/run/crio", "engine-socket", "CRI-O's socket directory", true},
    Protected{"/run/buildkit", "engine-socket", "BuildKit's socket directory", true},
    Protected{"/var/run/buildkit", "engine-socket", "BuildKit's socket directory", true},
    Protected{"/run/user/*/docker.sock", "engine-socket", "the rootless Docker socket", true},
    Protected{"/run/user/*/docker", "engine-socket", "rootless Docker's runtime directory", true},
    Protected{"/run/user/*/podman", "engine-socket", "rootless Podman's socket directory", true},
    Protected{"/run/user/*/containerd", "engine-socket", "rootless containerd's socket directory", true},
    Protected{"~/.docker/run", "engine-socket", "Docker Desktop's socket directory", true},
    Protected{"~/.colima", "engine-socket", "Colima's Docker socket directory", true},
    Protected{"~/.rd", "engine-socket", "Rancher Desktop's Docker socket directory", true},
    Protected{"~/.lima", "engine-socket", "Lima's VM and socket directory", true},
    Protected{"~/.local/share/containers", "engine-socket", "rootless Podman's storage", true},
    // Agent sockets outside the home directory.
    Protected{"/tmp/ssh-*", "ssh-agent", "an ssh-agent socket directory (/tmp/ssh-*)", true},
    // rustyolo's own runtime base without $XDG_RUNTIME_DIR (core/host/paths.cc): the sessions'
    // control sockets, through which a client widens a running session's policy.
    Protected{"/tmp/rustyolo-[0-9]*", "rustyolo-runtime",
              "rustyolo's runtime directory (/tmp/rustyolo-UID: the control sockets of running sessions)", true},
    Protected{"/tmp/.X11-unix", "display-socket", "the X11 display sockets (a client can read keystrokes)",
              true},
    Protected{"/run/user/*", "user-runtime-dir",
              "a user runtime directory ($XDG_RUNTIME_DIR: D-Bus, keyring, gpg-agent, ssh-agent and "
              "desktop sockets)",
              true},
    // Host system roots.
    Protected{"/", "sensitive-root", "the host's whole filesystem", false},
    Protected{"/proc", "sensitive-root", "the host's process and kernel interface (/proc)", true},
    Protected{"/sys", "sensitive-root", "the host's kernel and device settings (/sys)", true},
    Protected{"/dev", "sensitive-root", "the host's devices (/dev)", true},
    Protected{"/boot", "sensitive-root", "the host's kernel and boot loader (/boot)", true},
    Protected{"/etc", "sensitive-root", "the host's system configuration (/etc)", true},
    Protected{"/root", "sensitive-root", "the root user's home (/root)", true},
    Protected{"/var/run", "sensitive-root", "the host's runtime state and service sockets (/var/run)", true},
    Protected{"/run", "sensitive-root", "the host's runtime state and service sockets (/run)", true},
    Protected{"/var/lib/docker", "sensitive-root", "Docker's data: every container's and image's files",
              true},
    Protected{"/var/lib/containerd", "sensitive-root", "containerd's data: every container's files", true},
    Protected{"/var/lib/containers", "sensitive-root", "Podman's data: every container's files", true},
};

// Container paths the sandbox itself manages, with the system's programs and libraries that its
// supervisor (root in the container) loads; a volume may be neither there, inside, nor above one
// (same list as the CLI's volume parser, core/config/mount_spec.cc).
//
// The engine follows the image's symbolic links when it mounts, so the reserved places are listed
// under the names that lead to them too: /var/run/rustyolo (/var/run -> /run), /usr/bin and /bin
// (-> usr/bin), whose links lead into the reserved directories (/usr/bin/ld.so is the dynamic
// loader every program of the container, the supervisor first, is started with).
constexpr std::array<std::string_view, 18> reserved_targets = {
    "/proc",       "/sys",      "/dev",  "/run/rustyolo", "/var/run/rustyolo", "/etc",   "/usr/lib",
    "/usr/lib32",  "/usr/lib64", "/usr/libx32", "/usr/sbin", "/usr/bin", "/lib", "/lib32", "/lib64",
    "/libx32",     "/sbin",     "/bin"};


// True when `path` is absolute with no empty, "." or ".." component and no trailing slash.
bool is_normal_absolute(std::string_view path) {
    if (path.empty() || path.front() != '/')
        return false;
    if (path == "/")
        return true;
    if (path.back() == '/' || path.find("//") != std::string_view::npos)
        return false;
    for (const auto &part : text::path_components(path))
        if (part == "." || part == "..")
            return false;
    return true;
}

// The home directory as components, lexically normalised; nullopt when unknown or relative.
std::optional<std::vector<std::string>> home_components(const std::string &home) {
    if (home.empty() || home.front() != '/')
        return std::nullopt;
    std::vector<std::string> parts;
    for (auto &part : text::path_components(home)) {
        if (part == ".")
            continue;
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
            continue;
        }
        parts.push_back(std::move(part));
    }
    return parts;
}

// The pattern's components with "~" expanded; nullopt when it needs a home we do not have.
std::optional<std::vector<std::string>> pattern_components(std::string_view pattern,
                                                           const std::optional<std::vector<std::string>> &home) {
    if (pattern.substr(0, 2) != "~/")
        return text::path_components(pattern);
    if (!home)
        return std::nullopt;
    auto parts = *home;
    for (auto &part : text::path_components(pattern.substr(2)))
        parts.push_back(std::move(part));
    return parts;
}

bool component_matches(const std::string &glob, const std::string &name) {
    if (glob.find_first_of("*?[") == std::string::npos)
        return glob == name;
    return ::fnmatch(glob.c_str(), name.c_str(), 0) == 0;
}

Relation relate(const std::vector<std::string> &path, const std::vector<std::string> &pattern) {
    std::size_t common = std::min(path.size(), pattern.size());
    for (std::size_t i = 0; i < common; ++i)
        if (!component_matches(pattern[i], path[i]))
            return Relation::none;
    if (path.size() == pattern.size())
        return Relation::same;
    return path.size() > pattern.size() ? Relation::inside : Relation::ancestor;
}


// How a reason names the mount: the canonical path, and what the user wrote when it differs.
std::string subject(const MountRequest &request) {
    if (!request.requested.empty() && request.requested != request.source)
        return quoted(request.requested) + " (resolves to " + quoted(request.source) + ")";
    return quoted(request.source);
}

MountVerdict refuse(std::string_view rule, std::string reason) {
    return MountVerdict{false, std::string(rule), std::move(reason), {}};
}

constexpr std::string_view no_override = "; refused even read-only, and there is no override";

std::optional<MountVerdict> judge_file_type(const MountRequest &request) {
    const std::string &type = request.file_type;
    if (type == "directory" || type == "regular" || type == "missing")
        return std::nullopt;
    if (type == "socket")
        return refuse("socket", subject(request) +
                                    " is a Unix socket: whoever can connect to it commands the service behind "
                                    "it (through a Docker or Podman socket, that is root on the host), and "
                                    "connect() works on a read-only mount. Sockets are never mounted; there "
                                    "is no override. Remove this volume");
    if (type == "device")
        return refuse("device", subject(request) +
                                    " is a device file: it gives raw access to hardware or the kernel (reading "
                                    "a disk device reads every file on it, whatever its permissions). Devices "
                                    "are never mounted, not even read-only; there is no override. Remove this "
                                    "volume");
    if (type == "fifo")
        return refuse("fifo", subject(request) +
                                  " is a named pipe: a live channel to whatever host process uses it, not "
                                  "data. Named pipes are never mounted; there is no override. Remove this "
                                  "volume");
    if (type == "symlink")
        return refuse("not-canonical", subject(request) +
                                           " is still a symlink, so it was not canonicalised before judging; "
                                           "this is a bug in the caller, please report it");
    return refuse("file-type", subject(request) + " is neither a directory nor a regular file (type " +
                                   quoted(type) +
                                   "); only directories and regular files can be mounted. Remove this volume");
}

std::optional<MountVerdict> judge_target(const MountRequest &request) {
    const std::string &target = request.target;
    if (!is_normal_absolute(target))
        return refuse("target", "the container path " + quoted(target) +
                                    " is not an absolute path in normal form; write it like /data");
    if (target == "/")
        return refuse("target", "the container path \"/\" would replace the whole sandbox; mount under a "
                                "directory such as /data");
    auto parts = text::path_components(target);
    for (std::string_view reserved : reserved_targets) {
        Relation relation = relate(parts, text::path_components(reserved));
        if (relation != Relation::none)
            return refuse("target", "the container path " + quoted(target) + " " +
                                        (relation == Relation::same     ? "is "
                                         : relation == Relation::inside ? "is inside "
                                                                        : "contains ") +
                                        std::string(reserved) +
                                        ", which the sandbox itself manages; choose another path such as "
                                        "/data");
    }
    return std::nullopt;
}

std::string same_or_inside_reason(const MountRequest &request, const Protected &entry, Relation relation) {
    std::string where = relation == Relation::same ? " is " : " is inside ";
    std::string why;
    if (entry.rule == "engine-socket")
        why = ": access to a container engine's API is root on the host, and connect() works on a read-only "
              "mount";
    else if (entry.rule == "secret-dir")
        why = ": the agent could read the secrets in it and send them out through any allowed destination";
    else if (entry.rule == "ssh-agent")
        why = ": with an ssh-agent socket the agent could log in wherever your keys are accepted";
    else if (entry.rule == "display-socket")
        why = ": an X11 client can read your keystrokes and type into your other windows";
    else if (entry.rule == "rustyolo-runtime")
        why = ": through a session's control socket the agent could widen its own policy";
    else if (entry.rule == "user-runtime-dir")
        why = ": its sockets reach your session's services, which act with your full rights";
    else
        why = ": the sandbox must neither read nor change it";
    return subject(request) + where + std::string(entry.what) + why + std::string(no_override) +
           ". Remove this volume";
}

std::string ancestor_reason(const MountRequest &request, const Protected &entry) {
    return subject(request) + " contains " + std::string(entry.what) +
           ": mounting it would expose that to the agent" + std::string(no_override) +
           ". Mount a narrower directory instead, such as the project directory itself";
}

bool same_or_inside(const std::vector<std::string> &path, const std::vector<std::string> &base) {
    return path.size() >= base.size() && std::equal(base.begin(), base.end(), path.begin());
}

// A live Unix socket at or under the mount: connecting to it commands the process behind it (a
// tmux server runs whatever its client asks), and connect() works on a read-only mount.
std::optional<MountVerdict> judge_live_sockets(const MountRequest &request, const std::vector<std::string> &source) {
    const std::vector<std::string> session = text::path_components(request.session_dir);
    std::vector<std::string> in_project;
    for (const std::string &socket : request.bound_sockets) {
        const std::vector<std::string> parts = text::path_components(socket);
        if (!same_or_inside(parts, source))
            continue;
        if (!request.session_dir.empty() && same_or_inside(parts, session))
            continue;
        if (request.origin == "project") {
            in_project.push_back(socket);
            continue;
        }
        return refuse("live-socket",
                      subject(request) + " holds the Unix socket " + quoted(socket) +
                          ", on which a host process listens (the kernel lists it as bound): whoever can "
                          "connect to it commands that process, and connect() works on a read-only mount" +
                          std::string(no_override) +
                          ". Stop the service that listens there, or mount a directory without the socket");
    }
    if (in_project.empty())
        return std::nullopt;
    MountVerdict verdict{true, "allow", "no rule refuses " + subject(request), {}};
    const std::size_t shown = std::min<std::size_t>(in_project.size(), 5);
    std::string names;
    for (std::size_t i = 0; i < shown; ++i)
        names += (i ? ", " : "") + quoted(in_project[i]);
    if (in_project.size() > shown)
        names += " and " + std::to_string(in_project.size() - shown) + " more";
    verdict.warnings.push_back("the project holds live Unix sockets on which host processes listen: " + names +
                               "; the agent can connect to them and command those services. Stop them before "
                               "the session if the agent must not reach them");
    return verdict;
}

}  // namespace

std::vector<std::string> bound_socket_paths(std::istream &proc_net_unix) {
    std::vector<std::string> paths;
    std::set<std::string> seen;
    std::string line;
    std::getline(proc_net_unix, line);  // "Num RefCount Protocol Flags Type St Inode Path"
    while (std::getline(proc_net_unix, line)) {
        // Seven fields, then " PATH" when the socket has a name (which may hold spaces).
        std::size_t at = 0;
        for (int field = 0; field < 7 && at != std::string::npos; ++field) {
            at = line.find_first_not_of(' ', at);
            if (at != std::string::npos)
                at = line.find(' ', at);
        }
        if (at == std::string::npos || at + 1 >= line.size())
            continue;
        std::string path = line.substr(at + 1);
        if (path.front() != '/' || !seen.insert(path).second)
            continue;
        paths.push_back(std::move(path));
    }
    return paths;
}

std::vector<std::string> live_socket_paths() {
    std::ifstream in("/proc/net/unix");
    std::vector<std::string> live;
    for (const std::string &path : bound_socket_paths(in)) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        live.push_back(path);
        const std::size_t slash = path.rfind('/');
        const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
        std::unique_ptr<char, decltype(&std::free)> real(::realpath(dir.c_str(), nullptr), &std::free);
        if (!real)
            continue;
        std::string resolved = std::string(real.get()) + (std::string_view(real.get()) == "/" ? "" : "/") +
                               path.substr(slash + 1);
        if (resolved != path)
            live.push_back(std::move(resolved));
    }
    return live;
}

MountVerdict judge_mount(const MountRequest &request) {
    if (!is_normal_absolute(request.source))
        return refuse("not-canonical", "the host path " + quoted(request.source) +
                                           " is not canonical (absolute, without '.', '..' or '//'); this is "
                                           "a bug in the caller, please report it");
    if (auto verdict = judge_target(request))
        return *verdict;
    if (auto verdict = judge_file_type(request))
        return *verdict;

    auto source = text::path_components(request.source);
    auto home = home_components(request.home);
    // The path itself or something inside a protected location: the most specific location decides
    // ("/run/docker.sock" is the Docker socket before it is a part of /run).
    const Protected *closest = nullptr;
    Relation closest_relation = Relation::none;
    std::size_t closest_depth = 0;
    // For the root user /root is the home: the home's own rules (secret dirs, ancestors of them)
    // apply to it as to anyone's home, instead of refusing all of it.
    const bool home_is_root = home && *home == std::vector<std::string>{"root"};
    for (const Protected &entry : protected_paths) {
        if (home_is_root && entry.pattern == "/root")
            continue;
        auto pattern = pattern_components(entry.pattern, home);
        if (!pattern)
            continue;
        Relation relation = relate(source, *pattern);
        bool hit = relation == Relation::same || (relation == Relation::inside && entry.inside);
        if (hit && (!closest || pattern->size() > closest_depth)) {
            closest = &entry;
            closest_relation = relation;
            closest_depth = pattern->size();
        }
    }
    if (closest)
        return refuse(closest->rule, same_or_inside_reason(request, *closest, closest_relation));
    // An ancestor of a protected location would expose it; the first in table order (secrets first)
    // names it.
    for (const Protected &entry : protected_paths) {
        auto pattern = pattern_components(entry.pattern, home);
        if (pattern && relate(source, *pattern) == Relation::ancestor)
            return refuse(entry.rule, ancestor_reason(request, entry));
    }
    if (auto verdict = judge_live_sockets(request, source))
        return *verdict;
    return MountVerdict{true, "allow", "no rule refuses " + subject(request), {}};
}

}  // namespace rustyolo::mount_guard
