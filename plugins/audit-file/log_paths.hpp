// Where the audit file sink keeps its records (and reads them back for `rustyolo audit`).
#pragma once

#include <functional>
#include <string>

namespace rustyolo::audit_file {

// getenv(3), or a stand-in for it in tests.
using GetEnv = std::function<const char *(const char *)>;

// The default audit directory: $XDG_STATE_HOME/rustyolo/audit, else ~/.local/state/rustyolo/audit
// (a relative XDG_STATE_HOME is ignored, as the XDG spec says). Throws std::runtime_error when
// neither XDG_STATE_HOME nor a home directory is known.
std::string audit_directory(const GetEnv &getenv_fn);

// The audit directory for a configured `[security] audit_dir`: the default when `configured` is
// empty, else `configured` with a leading "~/" expanded. Throws std::invalid_argument for a
// relative path.
std::string audit_directory(const GetEnv &getenv_fn, const std::string &configured);

}  // namespace rustyolo::audit_file
