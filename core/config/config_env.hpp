// The environment as a config source, and the per-user locations derived from it.
// Every function takes the lookup as a parameter so that tests need not touch the real environment.
#pragma once

#include "core/private_header.hpp"

#include <functional>
#include <string>

#include "core/config/config.hpp"

namespace rustyolo {

// Looks up one variable; nullptr when it is not set (std::getenv fits).
using GetenvFn = std::function<const char *(const char *)>;

// The environment layer (origin "environment"). Variables that are unset or empty say nothing.
//   TRUSTED_DOMAINS (the seed's, space-separated)  → allow_domains
//   RUSTYOLO_DNS_SERVERS (space-separated)          → dns_servers
//   RUSTYOLO_IMAGE, RUSTYOLO_AGENT, RUSTYOLO_MEMORY, RUSTYOLO_CPUS, RUSTYOLO_PIDS_LIMIT,
//   RUSTYOLO_AUDIT_LOG, RUSTYOLO_NETWORK, RUSTYOLO_RUNTIME, RUSTYOLO_AUTH_HOME,
//   RUSTYOLO_AUDIT_SYSLOG_SOCKET, RUSTYOLO_AUDIT_DIR → the field of that name
//   RUSTYOLO_AUDIT_SINKS (space-separated)          → audit_sinks (UsageError for a bad name)
ConfigLayer environment_layer(const GetenvFn &getenv_fn);

// $XDG_CONFIG_HOME/rustyolo/config.toml, else $HOME/.config/rustyolo/config.toml. A relative
// XDG_CONFIG_HOME is ignored, as the XDG spec says. Empty when neither variable gives a path: then
// there is no user config to read.
std::string user_config_path(const GetenvFn &getenv_fn);

// $XDG_STATE_HOME/rustyolo, else $HOME/.local/state/rustyolo (relative XDG_STATE_HOME ignored).
// Throws UsageError when neither variable gives a path.
std::string state_dir(const GetenvFn &getenv_fn);

}  // namespace rustyolo
