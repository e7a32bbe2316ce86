// The mount guard's policy: which host paths may be bind-mounted into the sandbox, and why not.
//
// The caller canonicalises the source first (rustyolo::canonicalize_path: no symlinks, no "." or
// "..", no repeated slashes) and mounts exactly that canonical path; the rules compare paths by
// component, never by string prefix ("/procfs" is not "/proc", "~/.sshx" is not "~/.ssh").
#pragma once

#include <string>

namespace rustyolo::mount_guard {

struct MountRequest {
    std::string source;     // canonical absolute host path
    std::string requested;  // as the user wrote it (only used in messages)
    std::string target;     // container path
    bool readonly = false;
    // "directory", "regular", "socket", "device", "fifo", "symlink", "missing" or "other".
    std::string file_type;
    std::string home;  // the user's home directory on the host; "" when unknown
};

struct MountVerdict {
    bool allowed = false;
    std::string rule;    // short id of the rule that decided, e.g. "secret-dir"
    std::string reason;  // one sentence a user can act on
};

// Judges one mount. Refusals name the path, the rule, why, and what to do instead.
MountVerdict judge_mount(const MountRequest &request);

}  // namespace rustyolo::mount_guard
