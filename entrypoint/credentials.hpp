// Step "privileges" (in the agent's process, before exec): from the supervisor's root with a few
// capabilities to the agent's uid/gid with nothing: no supplementary groups, empty bounding,
// ambient, inheritable, permitted and effective capability sets, and no_new_privs, so that no
// exec (setuid binaries, file capabilities) can give anything back. Each result is verified.
#pragma once

#include "core/private_header.hpp"

#include <sys/types.h>

namespace rustyolo::entrypoint {

// Throws std::runtime_error naming the operation that failed. Emptying the bounding set needs
// CAP_SETPCAP (the runtime adds it for the supervisor).
void drop_privileges(uid_t uid, gid_t gid);

}  // namespace rustyolo::entrypoint
