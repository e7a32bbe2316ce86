// Project config trust (design §6). A project's .rustyolo.toml sits where the agent can write, so it
// may only NARROW the policy — unless the user has trusted that exact file content with
// `rustyolo trust <path>`. The CLI's procedure:
//   1. changes = widening_changes(project, merge({defaults, user}))
//   2. if changes is non-empty and !TrustStore(state_dir).is_trusted(path, content):
//        throw UsageError(untrusted_project_error(path, changes))
//   3. config = merge({defaults, user, project, env, cli}); if changes was empty:
//        config = apply_project_narrowing(config, project, {env, cli})
#pragma once

#include "core/private_header.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"

namespace rustyolo {

// One sentence per thing `project` would widen compared with `without_project` (the config merged
// from every layer that precedes the project: defaults and the user's file). Empty: the project only
// narrows (or repeats) the policy. Each sentence names the table, the key and the value, e.g.
// `[resources] memory = "16g" is higher than the current 4g`.
//
// Widening: any volume, env entry or plugin; image, auth_home, agent, seccomp_profile, network,
// runtime or firewall different from the base; dns_servers different from the base (or "any");
// audit_log lower than the base (none < basic < verbose); memory, cpus or pids_limit higher than the
// base, or without limit ("unlimited", or 0 and below, which the engine reads as no limit), or not
// comparable; allow_domains entries the base does not already allow (exactly, or through a base
// wildcard "*.suffix" on the same port); allow_lan true when the base has false; audit_sinks that
// leave out a sink of the base (adding sinks is fine); audit_syslog_socket or audit_dir different
// from the base; audit_max_bytes lower than the base (less detail kept).
// Not widening: inject_message, and anything equal to the base.
std::vector<std::string> widening_changes(const ConfigLayer &project, const Config &without_project);

// The error the CLI gives when a project config widens the policy and its content is not trusted.
std::string untrusted_project_error(const std::string &path, const std::vector<std::string> &changes);

// Makes a project's allow_domains a narrowing: merge() takes the union of every layer's domains, but
// a project that lists a subset of the base's domains means "only these". When `project` sets
// allow_domains, the result's list is the project's, plus the domains of `later_layers` (the
// environment and command line, which outrank the project and still add). Call it only when
// widening_changes() was empty, so the project's list is a subset of the base's.
Config apply_project_narrowing(Config merged, const ConfigLayer &project,
                               const std::vector<ConfigLayer> &later_layers = {});

// The user's trust decisions: the SHA-256 of each trusted project config's content, keyed by the
// file's canonical path, in <state_dir>/trust.json (directory 0700, file 0600, replaced atomically).
// Any change to the content makes the file untrusted again.
class TrustStore {
public:
    explicit TrustStore(std::string state_dir);

    // Throws Error when the store exists but cannot be read or is not a trust store.
    bool is_trusted(const std::string &canonical_path, std::string_view content) const;

    // Records `content` as trusted for `canonical_path`, replacing any earlier decision for that path.
    // Throws Error naming the file when the store cannot be written.
    void trust(const std::string &canonical_path, std::string_view content);

    // <state_dir>/trust.json
    const std::string &file() const { return file_; }

private:
    std::string state_dir_;
    std::string file_;
};

// Lowercase hex SHA-256 of `content` (OpenSSL EVP).
std::string sha256_hex(std::string_view content);

}  // namespace rustyolo
