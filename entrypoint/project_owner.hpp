// The project is the agent's own. The host CLI arranges that /app shows as owned by the agent's
// uid: a normal user's agent has the user's uid; run as root, the agent takes the project owner's
// ids, or writes a root-owned project through an idmapped mount (core/host/idmap.hpp). Anything
// else — a command pasted from --dry-run for a root-owned project, an owner changed since the CLI
// looked, a user running rustyolo in someone else's project — would start an agent that cannot
// work on its project as its owner; the start is refused instead, before the agent exists.
#pragma once

#include "core/private_header.hpp"

#include <sys/types.h>

#include <string>

namespace rustyolo::entrypoint {

// Throws, naming the project, its owner as seen inside and the agent's uid, and what to do,
// unless `workdir` is a directory owned by `agent_uid`.
void check_project_owner(const std::string &workdir, uid_t agent_uid);

}  // namespace rustyolo::entrypoint
