// Where the audit file sink keeps its records, and how `rustyolo audit` finds them again.
#pragma once

#include "core/private_header.hpp"

#include "core/host/paths.hpp"

#include <string>

namespace rustyolo {

// The default audit directory: $XDG_STATE_HOME/rustyolo/audit, else ~/.local/state/rustyolo/audit
// (a relative XDG_STATE_HOME is ignored, as the XDG spec says).
std::string audit_directory(const GetEnv &getenv_fn);

// The audit directory for a configured `[security] audit_dir`: the default when `configured` is
// empty, else `configured` with a leading "~/" expanded. Throws UsageError for a relative path.
std::string audit_directory(const GetEnv &getenv_fn, const std::string &configured);

}  // namespace rustyolo
