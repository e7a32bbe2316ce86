// The mount guard's policy: which host paths may be bind-mounted into the sandbox, and why not.
//
// The caller canonicalises the source first (rustyolo::canonicalize_path: no symlinks, no "." or
// "..", no repeated slashes) and mounts exactly that canonical path; the rules compare paths by
// component, never by string prefix ("/procfs" is not "/proc", "~/.sshx" is not "~/.ssh").
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace rustyolo::mount_guard {

struct MountRequest {
    std::string source;     // canonical absolute host path
    std::string requested;  // as the user wrote it (only used in messages)
    std::string target;     // container path
    bool readonly = false;
    // "directory", "regular", "socket", "device", "fifo", "symlink", "missing" or "other".
    std::string file_type;
    std::string home;  // the user's home directory on the host; "" when unknown
    // Paths of the Unix sockets bound on the host right now (live_socket_paths()); a mount that
    // is or contains one is refused, except under `session_dir`.
    std::vector<std::string> bound_sockets;
    std::string session_dir;  // rustyolo's own directory for this session; "" when none
    // "project", "volume" or "auth". For the project, live sockets are a warning, not a refusal:
    // project-local services (a development database's socket directory) are often what the agent
    // is meant to use, and refusing would refuse the session.
    std::string origin;
};

struct MountVerdict {
    bool allowed = false;
    std::string rule;    // short id of the rule that decided, e.g. "secret-dir"
    std::string reason;  // one sentence a user can act on
    std::vector<std::string> warnings;  // for an allowed mount: what the user should know
};

// The socket paths in a /proc/net/unix listing: absolute ones only (abstract sockets have no path,
// and a relative path says nothing about where the socket is), deduplicated, in listing order.
std::vector<std::string> bound_socket_paths(std::istream &proc_net_unix);

// The sockets bound in this network namespace whose path still names a socket: each as bound and,
// when it differs, with its directory's symbolic links resolved (a socket bound as
// /var/run/x.sock is /run/x.sock to a canonical mount source).
std::vector<std::string> live_socket_paths();

// Judges one mount. Refusals name the path, the rule, why, and what to do instead.
MountVerdict judge_mount(const MountRequest &request);

}  // namespace rustyolo::mount_guard
