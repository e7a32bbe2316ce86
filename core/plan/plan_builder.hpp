// Derives the Plan from the merged Config and the plugins' hooks. This is the one place where the
// session's policy is decided; everything after it (runtime driver, entrypoint) only applies it.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include "core/config/config.hpp"
#include "core/host/paths.hpp"
#include "core/host/placeholders.hpp"
#include <rustyolo/sdk/plan.hpp>
#include "core/loader/plugin_loader.hpp"

#include <functional>
#include <string>
#include <vector>

namespace rustyolo {

struct BuildContext {
    std::string cwd;                       // the project directory (canonical)
    std::string home;                      // the host user's home
    std::uint32_t uid = 0, gid = 0;        // the host user's ids
    GetEnv getenv_fn;
    std::string agent;                     // agent name ("claude", "exec", "shell", ...)
    std::vector<std::string> agent_args;   // user args after the agent name
    bool agent_args_given = false;
    // True only for a real start: creates missing auth dirs. Never for `plan` or `--dry-run`,
    // which must not touch the disk.
    bool prepare_host = false;
    // For a real start: the project's placeholder registry, which creates missing protected paths
    // (and knows other sessions' placeholders). Null for `plan` and `--dry-run`.
    ProjectPlaceholders *placeholders = nullptr;
    std::string session;                   // session id
    // Told about each mount a mount guard refuses, just before the refusal is thrown (for the
    // audit): {"source", "canonical", "target", "origin", "rule", "reason"}. May be empty.
    std::function<void(const boost::json::object &details)> on_mount_refused;
};

// The plugin that serves `agent`, or a UsageError listing the agents that exist.
const LoadedPlugin &find_agent_plugin(const PluginRegistry &registry, const std::string &agent);

// The runtime plugin that serves `runtime` (docker, podman).
const LoadedPlugin &find_runtime_plugin(const PluginRegistry &registry, const std::string &runtime);

// Project paths the host executes later, always read-only inside (agents add their own; the git
// metadata's come from git_protected_paths()).
const std::vector<std::string> &default_protected_paths();

Plan build_plan(const Config &config, const PluginRegistry &registry, const BuildContext &context);

// A new random session id (12 hex digits).
std::string new_session_id();

}  // namespace rustyolo
