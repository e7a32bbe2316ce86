// The Plan: one immutable, serialisable description of a session. The host CLI derives it from the
// Config and the plugins' hooks; the runtime driver turns it into a container launch; the
// entrypoint reads it (as a read-only file) and applies it. Versioned by kPlanSchema: a container
// refuses a Plan of another schema, and the image carries the schema it understands as a label.
//
// Part of the plugin SDK: network, syscall and runtime plugins receive the Plan as JSON and read it
// with plan_from_json(). The Plan schema (kPlanSchema) is versioned apart from the plugin ABI; every
// field is documented in docs/plugin-guide.md. Header-only, C++17 (the comparison operators need
// C++20 and are left out below it).
#pragma once

#include <rustyolo/sdk/json_reader.hpp>

#include <boost/json.hpp>

#include <limits>
#include <stdexcept>
#include <string_view>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rustyolo {

inline constexpr int kPlanSchema = 3;
// Where the Plan file and the audit socket appear inside the container.
inline constexpr const char *kPlanContainerPath = "/run/rustyolo/plan.json";
inline constexpr const char *kRuntimeContainerDir = "/run/rustyolo/session";
// The host CLI's session socket inside the container (in kRuntimeContainerDir).
inline constexpr const char *kSessionSocketContainerPath = "/run/rustyolo/session/session.sock";
inline constexpr const char *kSessionSocketName = "session.sock";
// The shared scratch tmpfs mounts inside the container (the home is plan.user.home).
inline constexpr const char *kTmpContainerDir = "/tmp";
inline constexpr const char *kShmContainerDir = "/dev/shm";
// The container's root filesystem is read-only. The runtime provides, besides the sized scratch
// tmpfs mounts: a small tmpfs owned by root (mode 0755) for the supervisor's files, where it
// writes the account databases that the image's /etc/passwd and /etc/group link to; and
// /etc/resolv.conf, a read-only file naming only the sandbox's DNS filter (kSandboxResolvConf),
// with, when the Plan names no upstream resolvers, the engine's in kEngineResolvConfContainerPath.
inline constexpr const char *kSupervisorContainerDir = "/run/rustyolo/supervisor";
inline constexpr std::int64_t kSupervisorTmpfsBytes = 1024 * 1024;
inline constexpr const char *kResolvConfContainerPath = "/etc/resolv.conf";
inline constexpr const char *kSandboxResolvConf =
    "# rustyolo: the sandbox's DNS filter is the only resolver\nnameserver 127.0.0.1\n";
inline constexpr const char *kSandboxResolvConfName = "resolv.conf";
inline constexpr const char *kEngineResolvConfName = "engine-resolv.conf";
inline constexpr const char *kEngineResolvConfContainerPath = "/run/rustyolo/engine-resolv.conf";

struct PlanAgent {
    std::string name;                // "claude", "exec", a third-party agent
    std::string plugin;              // the plugin that served the profile
    std::vector<std::string> argv;   // argv[0] is the executable
#if __cplusplus >= 202002L
    bool operator==(const PlanAgent &) const = default;
#endif
};

struct PlanUser {
    std::uint32_t uid = 1000;        // never 0
    std::uint32_t gid = 1000;
    std::string name = "agent";
    std::string home = "/home/agent";
#if __cplusplus >= 202002L
    bool operator==(const PlanUser &) const = default;
#endif
};

struct PlanEnv {
    std::string name;
    // The value, or nullopt when the variable is passed from the host's environment by name
    // (secrets such as API keys never appear in the Plan file or on a command line).
    std::optional<std::string> value;
#if __cplusplus >= 202002L
    bool operator==(const PlanEnv &) const = default;
#endif
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
#if __cplusplus >= 202002L
    bool operator==(const PlanMount &) const = default;
#endif
};

struct PlanEgress {
    std::string kind;                // "name" (exact), "wildcard" (*.suffix: subdomains), "cidr"
    std::string value;               // lower-case name without trailing dot / suffix / CIDR
    std::vector<std::uint16_t> ports;// TCP ports; empty never happens (name → 80, 443)
    std::string protocol = "tcp";
    std::string reason;              // who asked for it (the user, an agent's requirement)
#if __cplusplus >= 202002L
    bool operator==(const PlanEgress &) const = default;
#endif
};

struct PlanNetwork {
    std::string mode = "filter";     // "filter": DNS names filtered; "any": names unfiltered
    std::string firewall = "net-nftables";  // the network plugin applied in the container
    std::vector<PlanEgress> allow;
    std::vector<std::string> dns_servers;   // upstreams; empty: the engine's (resolv.conf)
    bool allow_lan = false;
    std::string engine_network;      // runtime network name; empty: the engine's default
#if __cplusplus >= 202002L
    bool operator==(const PlanNetwork &) const = default;
#endif
};

struct PlanResources {
    std::optional<std::int64_t> memory_bytes;  // nullopt: unlimited
    std::optional<double> cpus;
    std::optional<std::int64_t> pids;
    // The sizes of the session's tmpfs mounts (charged to the memory limit, and together below it):
    // /tmp (the image links /var/tmp to it), the agent's home, /dev/shm. nullopt: not sized (a
    // Plan built by hand); the CLI always sets them. The project directory is not bounded.
    std::optional<std::int64_t> tmp_bytes;
    std::optional<std::int64_t> home_bytes;
    std::optional<std::int64_t> shm_bytes;
#if __cplusplus >= 202002L
    bool operator==(const PlanResources &) const = default;
#endif
};

struct PlanSyscalls {
    std::string mode = "default";    // "default", "profile" (Docker-format JSON), "none"
    std::string plugin = "seccomp";
    boost::json::value profile;      // the Docker-format profile for mode "profile"
    // The Docker-format profile the container engine runs the whole container under (runtime
    // plugins pass it as `--security-opt seccomp=FILE`); null: the engine's own default.
    boost::json::value engine_profile;
#if __cplusplus >= 202002L
    bool operator==(const PlanSyscalls &) const = default;
#endif
};

struct PlanAudit {
    std::string level = "basic";     // none | basic | verbose
#if __cplusplus >= 202002L
    bool operator==(const PlanAudit &) const = default;
#endif
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
    // (core/host/placeholders.hpp) removes them when the last session holding them ends.
    std::vector<std::string> created_paths;
#if __cplusplus >= 202002L
    bool operator==(const Plan &) const = default;
#endif
};

namespace plan_detail {

namespace json = boost::json;

inline json::array to_array(const std::vector<std::string> &items) {
    json::array out;
    for (const auto &item : items)
        out.emplace_back(item);
    return out;
}

template <class T>
inline json::value optional_value(const std::optional<T> &v) {
    return v ? json::value(*v) : json::value(nullptr);
}

}  // namespace plan_detail

// One allow entry as JSON ({"kind", "value", "ports", "protocol", "reason"}), and back. The
// Plan's network.allow holds these; a live change (`rustyolo allow`) carries them too.
inline boost::json::object to_json(const PlanEgress &a) {
    namespace json = boost::json;
    json::array ports;
    for (auto p : a.ports)
        ports.emplace_back(static_cast<std::int64_t>(p));
    return json::object{{"kind", a.kind},
                        {"value", a.value},
                        {"ports", std::move(ports)},
                        {"protocol", a.protocol},
                        {"reason", a.reason}};
}

inline PlanEgress egress_from_json(const sdk::JsonReader &a) {
    PlanEgress egress;
    egress.kind = a.str("kind");
    a.expect_one_of("kind", egress.kind, {"name", "wildcard", "cidr"});
    egress.value = a.str("value");
    egress.ports = a.ports("ports");
    egress.protocol = a.str_or("protocol", "tcp");
    egress.reason = a.str_or("reason", "");
    return egress;
}

inline boost::json::value to_json(const Plan &plan) {
    namespace json = boost::json;
    using plan_detail::optional_value;
    using plan_detail::to_array;
    json::array env;
    for (const auto &e : plan.env)
        env.push_back(json::object{{"name", e.name}, {"value", optional_value(e.value)}});

    json::array mounts;
    for (const auto &m : plan.mounts)
        mounts.push_back(json::object{{"source", m.source},
                                      {"target", m.target},
                                      {"readonly", m.readonly},
                                      {"origin", m.origin},
                                      {"reason", m.reason},
                                      {"placeholder", m.placeholder},
                                      {"identity", m.identity}});

    json::array allow;
    for (const auto &a : plan.network.allow)
        allow.push_back(to_json(a));

    return json::object{
        {"schema", plan.schema},
        {"session", plan.session},
        {"image", plan.image},
        {"runtime", plan.runtime},
        {"project", plan.project},
        {"workdir", plan.workdir},
        {"agent",
         json::object{{"name", plan.agent.name},
                      {"plugin", plan.agent.plugin},
                      {"argv", to_array(plan.agent.argv)}}},
        {"user",
         json::object{{"uid", plan.user.uid},
                      {"gid", plan.user.gid},
                      {"name", plan.user.name},
                      {"home", plan.user.home}}},
        {"env", std::move(env)},
        {"mounts", std::move(mounts)},
        {"resources",
         json::object{{"memory_bytes", optional_value(plan.resources.memory_bytes)},
                      {"cpus", optional_value(plan.resources.cpus)},
                      {"pids", optional_value(plan.resources.pids)},
                      {"tmp_bytes", optional_value(plan.resources.tmp_bytes)},
                      {"home_bytes", optional_value(plan.resources.home_bytes)},
                      {"shm_bytes", optional_value(plan.resources.shm_bytes)}}},
        {"network",
         json::object{{"mode", plan.network.mode},
                      {"firewall", plan.network.firewall},
                      {"allow", std::move(allow)},
                      {"dns_servers", to_array(plan.network.dns_servers)},
                      {"allow_lan", plan.network.allow_lan},
                      {"engine_network", plan.network.engine_network}}},
        {"syscalls",
         json::object{{"mode", plan.syscalls.mode},
                      {"plugin", plan.syscalls.plugin},
                      {"profile", plan.syscalls.profile},
                      {"engine_profile", plan.syscalls.engine_profile}}},
        {"audit", json::object{{"level", plan.audit.level}}},
        {"container_plugins", to_array(plan.container_plugins)},
        {"lifeline", plan.lifeline},
        {"log_level", plan.log_level},
        {"warnings", to_array(plan.warnings)},
        {"created_paths", to_array(plan.created_paths)},
    };
}

// Parses and validates a Plan. Throws sdk::JsonError (a std::runtime_error) naming the JSON path
// that is wrong, e.g. "plan: /user/uid: expected an unsigned integer". A schema other than
// kPlanSchema is refused.
inline Plan plan_from_json(const boost::json::value &value) {
    using Reader = sdk::JsonReader;
    Reader r(value, "plan");
    Plan plan;
    plan.schema = static_cast<int>(r.integer("schema", 0, std::numeric_limits<int>::max()));
    if (plan.schema != kPlanSchema)
        r.fail("/schema", "schema " + std::to_string(plan.schema) + " is not the supported " +
                                    std::to_string(kPlanSchema) +
                                    "; the CLI and the image are from different releases — rebuild "
                                    "the image with `rustyolo image build`");
    plan.session = r.str("session");
    plan.image = r.str("image");
    plan.runtime = r.str("runtime");
    plan.project = r.str("project");
    plan.workdir = r.str("workdir");

    Reader agent = r.child("agent");
    plan.agent.name = agent.str("name");
    plan.agent.plugin = agent.str_or("plugin", "");
    plan.agent.argv = agent.strings("argv");
    if (plan.agent.argv.empty())
        agent.fail(agent.at("argv"), "must name at least the executable");

    Reader user = r.child("user");
    plan.user.uid = static_cast<std::uint32_t>(user.integer("uid", 1, 0xfffffffe));
    plan.user.gid = static_cast<std::uint32_t>(user.integer("gid", 1, 0xfffffffe));
    plan.user.name = user.str("name");
    plan.user.home = user.str("home");

    r.each("env", [&](const Reader &e) {
        PlanEnv env{e.str("name"), std::nullopt};
        if (e.find("value"))
            env.value = e.str("value");
        plan.env.push_back(std::move(env));
    });
    r.each("mounts", [&](const Reader &m) {
        plan.mounts.push_back(PlanMount{m.str("source"), m.str("target"), m.boolean_or("readonly", false),
                                        m.str_or("origin", ""), m.str_or("reason", ""),
                                        m.boolean_or("placeholder", false), m.str_or("identity", "")});
    });

    Reader res = r.child("resources");
    plan.resources.memory_bytes =
        res.optional_integer("memory_bytes", 1, std::numeric_limits<std::int64_t>::max());
    plan.resources.cpus = res.optional_number("cpus");
    plan.resources.pids = res.optional_integer("pids", 1, std::numeric_limits<std::int64_t>::max());
    plan.resources.tmp_bytes = res.optional_integer("tmp_bytes", 1, std::numeric_limits<std::int64_t>::max());
    plan.resources.home_bytes = res.optional_integer("home_bytes", 1, std::numeric_limits<std::int64_t>::max());
    plan.resources.shm_bytes = res.optional_integer("shm_bytes", 1, std::numeric_limits<std::int64_t>::max());

    Reader net = r.child("network");
    plan.network.mode = net.str("mode");
    net.expect_one_of("mode", plan.network.mode, {"filter", "any"});
    plan.network.firewall = net.str("firewall");
    net.each("allow", [&](const Reader &a) { plan.network.allow.push_back(egress_from_json(a)); });
    plan.network.dns_servers = net.strings("dns_servers");
    plan.network.allow_lan = net.boolean_or("allow_lan", false);
    plan.network.engine_network = net.str_or("engine_network", "");

    Reader sys = r.child("syscalls");
    plan.syscalls.mode = sys.str("mode");
    sys.expect_one_of("mode", plan.syscalls.mode, {"default", "profile", "none"});
    plan.syscalls.plugin = sys.str_or("plugin", "seccomp");
    if (const auto *profile = value.as_object().at("syscalls").as_object().if_contains("profile"))
        plan.syscalls.profile = *profile;
    if (const auto *engine = value.as_object().at("syscalls").as_object().if_contains("engine_profile")) {
        if (!engine->is_null() && !engine->is_object())
            throw std::runtime_error("plan: /syscalls/engine_profile: expected a Docker-format profile object or null");
        plan.syscalls.engine_profile = *engine;
    }

    plan.audit.level = r.child("audit").str("level");
    r.child("audit").expect_one_of("level", plan.audit.level, {"none", "basic", "verbose"});
    plan.container_plugins = r.strings("container_plugins");
    plan.lifeline = r.boolean_or("lifeline", false);
    plan.log_level = r.str_or("log_level", "warn");
    r.expect_one_of("log_level", plan.log_level, {"warn", "info", "debug", "trace"});
    plan.warnings = r.strings("warnings");
    plan.created_paths = r.strings("created_paths");
    return plan;
}

inline Plan parse_plan(std::string_view text) {
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec)
        throw std::runtime_error("plan: not valid JSON: " + ec.message());
    return plan_from_json(value);
}

}  // namespace rustyolo

