// The mounts are what the CLI checked. The host CLI judges every mount source (mount guard,
// symlink refusal, protected paths) and records its identity (st_dev:st_ino) in the Plan; the
// engine mounts the sources later. Between the two, anything that can write in the project (e.g.
// the agent of another session on the same project) could swap a checked directory for a symbolic
// link, and the engine would mount the link's target: a host directory nobody checked. So before
// anything else runs, every mount's target is looked up without following links and compared with
// the recorded identity; a difference stops the start.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>

namespace rustyolo::entrypoint {

// Throws, naming the mount, its source and what was found, unless each mount with a recorded
// identity is exactly that file or directory; a target in the project (plan.workdir) must also be
// reached from / without a symbolic link (the project is writable by agents), one elsewhere may
// pass the image's own links (/var/run -> /run), which the engine follows as well.
void verify_mounts(const Plan &plan);

}  // namespace rustyolo::entrypoint
