// The project's own config file (.rustyolo.toml): how it is read, and which of its values are
// refused whatever the trust. The project is writable by the agent, so:
//  - the file is read only when it is a regular file in the project: a symbolic link is refused (it
//    can be pointed at another file between runs, and the file it names is not the one reviewed);
//  - trust covers the file's text, not the files it names: a value that names a path inside the
//    project (a plugin, a seccomp profile, a volume's host side, the auth home, the audit directory
//    or syslog socket) is refused even when the content is trusted, because the agent can rewrite
//    or re-point what is there before the next run.
#pragma once

#include "core/private_header.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/config/config.hpp"

namespace rustyolo {

// The content of the project config at `path`; nullopt when there is none. Throws UsageError when
// it is a symbolic link or not a regular file, Error when it cannot be read.
std::optional<std::string> read_project_config(const std::string &path);

// One sentence per value of `project` that names a path inside `project_dir` (lexically, or once
// symbolic links are resolved), e.g. `plugins entry "./tools/x.so" is /p/tools/x.so`. Relative
// paths are taken against `project_dir`, "~/" against `home`, as the session would.
std::vector<std::string> paths_into_project(const ConfigLayer &project, const std::string &project_dir,
                                            const std::string &home);

// The error for a project config whose values name paths inside the project.
std::string paths_into_project_error(const std::string &path, const std::vector<std::string> &findings);

}  // namespace rustyolo
