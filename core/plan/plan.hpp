// The Plan: one immutable, serialisable description of a session. The host CLI derives it from the
// Config and the plugins' hooks; the runtime driver turns it into a container launch; the
// entrypoint reads it (as a read-only file) and applies it. Versioned by kPlanSchema: a container
// refuses a Plan of another schema, and the image carries the schema it understands as a label.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rustyolo {

inline constexpr int kPlanSchema = 2;
// Where the Plan file and the audit socket appear inside the container.
inline constexpr const char *kPlanContainerPath = "/run/rustyolo/plan.json";
inline constexpr const char *kRuntimeContainerDir = "/run/rustyolo/session";
// The host CLI's session socket inside the container (in kRuntimeContainerDir).
inline constexpr const char *kSessionSocketContainerPath = "/run/rustyolo/session/session.sock";
inline constexpr const char *kSessionSocketName = "session.sock";

struct PlanAgent {
    std::string name;                // "claude", "exec", a third-party agent
    std::string plugin;              // the plugin that served the profile
    std::vector<std::string> argv;   // argv[0] is the executable
    bool operator==(const PlanAgent &) const = default;
};

struct PlanUser {
    std::uint32_t uid = 1000;        // never 0
    std::uint32_t gid = 1000;
    std::string name = "agent";
    std::string home = "/home/agent";
    bool operator==(const PlanUser &) const = default;
};

struct PlanEnv {
    std::string name;
    // The value, or nullopt when the variable is passed from the host's environment by name
    // (secrets such as API keys never appear in the Plan file or on a command line).
    std::optional<std::string> value;
    bool operator==(const PlanEnv &) const = default;
};

struct PlanMount {
    std::string source;              // canonical host path
    std::string target;              // container path
    bool readonly = false;
    std::string origin;              // "project", "volume", "auth", "protect", "runtime"
    std::string reason;              // why it is there
    // For protected paths that did not exist: the host CLI created an empty placeholder (as the
    // user) so it can be mounted read-only, and removes it after the session if still empty.
    bool placeholder = false;
    // "st_dev:st_ino" of the source when the CLI checked it ("" when it did not exist then). The
    // entrypoint refuses to start unless the target is that very file or directory, reached
    // without a symbolic link (entrypoint/mount_check.hpp).
    std::string identity;
    bool operator==(const PlanMount &) const = default;
};

struct PlanEgress {
    std::string kind;                // "name" (exact), "wildcard" (*.suffix: subdomains), "cidr"
    std::string value;               // lower-case name without trailing dot / suffix / CIDR
    std::vector<std::uint16_t> ports;// TCP ports; empty never happens (name → 80, 443)
    std::string protocol = "tcp";
    std::string reason;              // who asked for it (the user, an agent's requirement)
    bool operator==(const PlanEgress &) const = default;
};

struct PlanNetwork {
    std::string mode = "filter";     // "filter": DNS names filtered; "any": names unfiltered
    std::string firewall = "net-nftables";  // the network plugin applied in the container
    std::vector<PlanEgress> allow;
    std::vector<std::string> dns_servers;   // upstreams; empty: the engine's (resolv.conf)
    bool allow_lan = false;
    std::string engine_network;      // runtime network name; empty: the engine's default
    bool operator==(const PlanNetwork &) const = default;
};

struct PlanResources {
    std::optional<std::int64_t> memory_bytes;  // nullopt: unlimited
    std::optional<double> cpus;
    std::optional<std::int64_t> pids;
    bool operator==(const PlanResources &) const = default;
};

struct PlanSyscalls {
    std::string mode = "default";    // "default", "profile" (Docker-format JSON), "none"
    std::string plugin = "seccomp";
    boost::json::value profile;      // the Docker-format profile for mode "profile"
    // The Docker-format profile the container engine runs the whole container under (runtime
    // plugins pass it as `--security-opt seccomp=FILE`); null: the engine's own default.
    boost::json::value engine_profile;
    bool operator==(const PlanSyscalls &) const = default;
};

struct PlanAudit {
    std::string level = "basic";     // none | basic | verbose
    bool operator==(const PlanAudit &) const = default;
};

struct Plan {
    int schema = kPlanSchema;
    std::string session;             // unique id, also part of the container name
    std::string image;
    std::string runtime = "docker";
    std::string project;             // host path of the project (canonical)
    std::string workdir = "/app";
    PlanAgent agent;
    PlanUser user;
    std::vector<PlanEnv> env;
    std::vector<PlanMount> mounts;
    PlanResources resources;
    PlanNetwork network;
    PlanSyscalls syscalls;
    PlanAudit audit;
    std::vector<std::string> container_plugins;  // plugin file stems the entrypoint loads
    // True when the host CLI watches the session: it listens on kSessionSocketContainerPath and
    // accepts exactly one connection; the supervisor connects before anything else and ends the
    // agent when that connection closes (the CLI is gone). False only for a pasted --dry-run.
    bool lifeline = false;
    // The supervisor's log level: "warn" (default) or, with `rustyolo --debug`, "debug". Warnings
    // are never silenced.
    std::string log_level = "warn";
    std::vector<std::string> warnings;           // shown to the user before the start
    // Host paths this session holds as read-only placeholders (outermost first): created by it or
    // by another live session on the project. For information: the CLI's placeholder registry
    // (core/lib/placeholders.hpp) removes them when the last session holding them ends.
    std::vector<std::string> created_paths;
    bool operator==(const Plan &) const = default;
};

boost::json::value to_json(const Plan &plan);

// Parses and validates a Plan. Throws std::runtime_error naming the JSON path that is wrong,
// e.g. "plan: /user/uid: expected an unsigned integer". A schema other than kPlanSchema is refused.
Plan plan_from_json(const boost::json::value &value);
Plan parse_plan(std::string_view text);

}  // namespace rustyolo
