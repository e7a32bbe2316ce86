// Loads a TOML config file (the user's config.toml or a project's .rustyolo.toml) into a ConfigLayer.
//
// The seed's format loads unchanged:
//   [default]   allow_domains (space-separated string or array of strings), volumes, env (arrays of
//               strings), auth_home, image, agent (strings)
//   [resources] memory (string); cpus, pids_limit (string, or a TOML integer/float: `pids_limit = 256`)
//   [security]  seccomp_profile, audit_log, inject_message (strings); dns_servers (space-separated
//               string or array of strings)
// rustyolo additions:
//   [network]   network (string), allow_lan (bool), firewall (string)
//   [runtime]   runtime (string), plugins (array of strings)
//
// Unknown tables and keys, and values of the wrong type, are UsageErrors that name the file, the line
// and the key. Values are only loaded here; their meaning (domains, sizes) is checked by the plugins.
#pragma once

#include "core/private_header.hpp"

#include <string>
#include <string_view>

#include "core/config/config.hpp"

namespace rustyolo {

// Reads and parses `path`; `path` is also the origin named in errors and in the layer.
// Throws Error when the file cannot be read, UsageError when its content is not a valid config.
ConfigLayer load_config_file(const std::string &path, Source source);

// Parses `text`; `origin` (normally the file's path) prefixes every error message.
ConfigLayer parse_config_text(std::string_view text, const std::string &origin, Source source);

}  // namespace rustyolo
