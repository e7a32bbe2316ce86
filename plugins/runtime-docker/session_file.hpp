// Files the runtime writes into the session's private dir for the engine to mount or read.
#pragma once

#include <string>

namespace rustyolo::docker {

// Writes `text` to `path`, mode 0644 whatever the umask (the engine and the container's root read
// it), never through a symlink, and never over an existing file unless `overwrite` (a --dry-run's
// reused dir). Throws std::runtime_error "cannot create|write <what> <path>: <reason>".
void write_session_file(const std::string &path, const std::string &text, bool overwrite, const std::string &what);

}  // namespace rustyolo::docker
