// File descriptors: the entrypoint makes sure 0-2 exist, and the agent inherits nothing else.
#pragma once

#include "core/private_header.hpp"

namespace rustyolo::entrypoint {

// Opens /dev/null on any of 0, 1, 2 that is closed, so that no later file lands there by accident.
void ensure_standard_fds();

// Closes every descriptor above 2 but `keep` (close_range; /proc/self/fd where the kernel or the
// engine's seccomp profile lacks it). Throws std::runtime_error.
void close_inherited_fds(int keep = -1);

}  // namespace rustyolo::entrypoint
