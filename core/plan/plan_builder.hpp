// Derives the Plan from the merged Config and the plugins' hooks. This is the one place where the
// session's policy is decided; everything after it (runtime driver, entrypoint) only applies it.
//
// Which plugins a hook asks
// -------------------------
// Every hook the host calls is asked in a role. A role names the hook and at most one key that
// narrows the loaded plugins implementing that hook; those are the role's candidates, in load
// order (built-in plugins, then the user's plugin directory, then --plugin files):
//
//   role             hook      candidates: the plugins with the hook...     asked
//   agent NAME       agent     whose agent.names lists NAME                 exactly one
//   runtime NAME     runtime   whose runtime.names lists NAME (--runtime)   exactly one
//   firewall NAME    network   named net-NAME (--firewall; nftables)        exactly one
//   syscall policy   syscall   named seccomp                                exactly one
//   resource policy  resource  all of them                                  exactly one
//   mount guard      mount     all of them                                  every one, in order
//
// An "exactly one" role with no candidate stops the build with an error naming the role, the
// plugins that do implement the hook (with what they serve) and what to do: a UsageError when the
// user chose the key (agent, --runtime, --firewall), an Error when a built-in plugin is missing.
// Two or more candidates are a UsageError naming each one's file. Every mount guard judges every
// mount, in load order; the first refusal wins; no mount guard at all is an Error (nothing is
// mounted unguarded). plugins_for() implements this rule; every hook call below goes through it.
// (Audit sinks follow the same shape — each sink named by --audit-sink is exactly one plugin,
// audit-NAME or NAME — in find_audit_sinks(), core/audit/hub.cc.)
//
// Reading the answers
// -------------------
// Every answer is read with sdk::JsonReader: a field of the wrong type, a missing required field,
// an enum value outside its set or an oversized value (strings over 64 KiB, lists over 4096 items,
// numbers out of their range) is refused with an Error naming the plugin, the call and the field:
//     plugin "net-x" network.normalize result: /entries/0/ports: expected port numbers 1-65535
// Optional fields may be absent or null; unknown fields are ignored (a newer plugin may say more
// than this host reads). The resource policy must give each limit, null meaning "no limit".
//
// Reasons of the allow entries
// ----------------------------
// Each normalised allow entry carries the reasons of exactly the requested entries that normalise
// to it (same kind, value and protocol): the firewall plugin normalises each requested entry on
// its own, then the whole list. A normalised entry that no requested entry produces is refused.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include "core/config/config.hpp"
#include "core/host/paths.hpp"
#include "core/host/placeholders.hpp"
#include <rustyolo/sdk/plan.hpp>
#include "core/loader/plugin_loader.hpp"

#include <functional>
#include <optional>
#include <utility>
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
    // The session's runtime directory (session_dir_path()): Unix sockets bound under it are
    // rustyolo's own, which the mount guards do not count against a mount. "" when none.
    std::string session_dir;
    // Told about each mount a mount guard refuses, just before the refusal is thrown (for the
    // audit): {"source", "canonical", "target", "origin", "rule", "reason"}. May be empty.
    std::function<void(const boost::json::object &details)> on_mount_refused;
};

// One role of the dispatch rule above.
struct PluginRole {
    enum class Ask { exactly_one, every };
    std::string role;    // as the user reads it: "firewall \"nftables\"", "resource policy"
    std::string hook;    // "agent", "network", "mount", "resource", "syscall", "audit", "runtime"
    Ask ask = Ask::exactly_one;
    std::string plugin;  // key: only the plugin of this name ("" = no such key)
    std::string serves;  // key: only plugins whose <hook>.names lists this name ("" = no such key)
    std::string remedy;  // what the user does when no plugin serves the role
    // The key comes from the user's options (--firewall, --runtime, the agent): no candidate is a
    // UsageError. Otherwise a missing built-in plugin: an Error.
    bool user_selects = false;
};

// The plugins that serve `role`, in load order: exactly one, or (Ask::every) at least one.
// Otherwise a UsageError (a plugin the user loaded or selected is at fault) or an Error (a
// built-in plugin is missing) naming the role, the candidates and the remedy.
std::vector<const LoadedPlugin *> plugins_for(const PluginRegistry &registry, const PluginRole &role);

// The plugin that serves `agent`, or a UsageError listing the agents that exist.
const LoadedPlugin &find_agent_plugin(const PluginRegistry &registry, const std::string &agent);

// The runtime used when none is configured: the first name the first loaded runtime plugin serves
// (built-in plugins load first). Error when no plugin serves a runtime.
std::string default_runtime(const PluginRegistry &registry);
// The runtime plugin that serves `runtime` (a name from its `runtime.names`); exactly one may.
const LoadedPlugin &find_runtime_plugin(const PluginRegistry &registry, const std::string &runtime);

// An agent plugin's answer to agent.profile, read and checked (docs/plugin-guide.md names the fields).
struct AgentProfile {
    std::string plugin;
    std::string agent;
    std::string version;                                         // "" when the plugin does not say
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> egress;     // entry, reason
    std::vector<std::pair<std::string, std::string>> decline;    // host or *.suffix, reason
    std::vector<std::string> vendor_domains;                     // watched by the drift scan
    std::vector<std::string> env_passthrough;
    std::vector<PlanEnv> env;
    std::vector<std::pair<std::string, std::string>> persist;    // name under auth home, target
    std::vector<std::pair<std::string, std::string>> protect;    // project path, reason ("" when none)
    std::vector<std::string> install_npm;                        // npm specs the image installs
};

// Asks `plugin` for the profile of `agent` and checks the answer (an Error names the plugin and
// the field). A declined host may not also be an egress entry.
AgentProfile agent_profile_of(const LoadedPlugin &plugin, const std::string &agent,
                              const std::vector<std::string> &args, bool user_args,
                              const std::optional<std::string> &inject_message);

// The manifest of `agent` without a session: its profile for `AGENT --version` (the user's args,
// so that an agent that needs a command, like exec, answers too) with no sandbox message. The
// fields that do not depend on the request (version, egress, decline, protect, ...) are the ones
// to read from it.
AgentProfile agent_manifest_of(const LoadedPlugin &plugin, const std::string &agent);

// A project path some installed agent reads as configuration or code, and who protects it why.
struct AgentProtected {
    std::string path;
    std::string why;  // "agent claude (plugin agent-claude): reason"; several joined with "; "
};

// The union of the protected paths of every agent of every loaded agent plugin (built-in, the
// plugin directory's and --plugin ones), the running agent's (`running`, already asked) first:
// every session protects them all, since the user may run any of these agents later, inside the
// sandbox or outside. A plugin whose profile answer is malformed stops the build (Error).
std::vector<AgentProtected> agents_protected_paths(const PluginRegistry &registry, const AgentProfile &running);

// Project paths the host executes later, always read-only inside (agents add their own; the git
// metadata's come from git_protected_paths()).
const std::vector<std::string> &default_protected_paths();

Plan build_plan(const Config &config, const PluginRegistry &registry, const BuildContext &context);

// The entries of a live change of a running session (`rustyolo allow` / `deny`), normalised exactly
// as --allow-domains is: by the session's firewall plugin (network.firewall) through its normalize
// hook, with the session's allow_lan. Duplicates are merged. A UsageError names the bad value.
std::vector<PlanEgress> normalize_live_entries(const PluginRegistry &registry, const PlanNetwork &network,
                                               const std::vector<std::string> &entries);

// A new random session id (12 hex digits).
std::string new_session_id();

}  // namespace rustyolo
