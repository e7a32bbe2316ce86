#include "core/plan/plan_builder.hpp"

#include "core/config/env_policy.hpp"
#include "core/error.hpp"
#include "core/host/git_dirs.hpp"
#include <rustyolo/sdk/text.hpp>
#include "core/config/mount_spec.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace rustyolo {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

using text::join;


std::vector<std::string> strings_of(const json::value &value, const char *what) {
    std::vector<std::string> out;
    if (value.is_null())
        return out;
    if (!value.is_array())
        throw Error(std::string("plugin result: ") + what + " must be an array of strings");
    for (const auto &v : value.as_array()) {
        if (!v.is_string())
            throw Error(std::string("plugin result: ") + what + " must contain only strings");
        out.emplace_back(v.as_string());
    }
    return out;
}

const json::value &field(const json::object &object, std::string_view key) {
    static const json::value null;
    auto it = object.find(key);
    return it == object.end() ? null : it->value();
}

std::string string_field(const json::object &object, std::string_view key) {
    const auto &v = field(object, key);
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

// --- agent -----------------------------------------------------------------------------------

struct AgentProfile {
    std::string plugin;
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> egress;  // entry, reason
    std::vector<std::string> env_passthrough;
    std::vector<PlanEnv> env;
    std::vector<std::pair<std::string, std::string>> persist;  // name under auth home, target
    std::vector<std::string> protect;
};

AgentProfile agent_profile(const LoadedPlugin &plugin, const Config &config, const BuildContext &ctx) {
    json::object request{{"agent", ctx.agent},
                         {"args", json::value_from(ctx.agent_args)},
                         {"user_args", ctx.agent_args_given},
                         {"inject_message", config.inject_message ? json::value(*config.inject_message)
                                                                  : json::value(nullptr)},
                         {"workdir", "/app"},
                         {"home", "/home/agent"}};
    json::value result = plugin.call("agent.profile", plugin.agent()->profile, request);
    if (!result.is_object())
        throw Error("plugin " + plugin.name() + ": agent.profile must return an object");
    const auto &r = result.as_object();
    AgentProfile profile;
    profile.plugin = plugin.name();
    profile.argv = strings_of(field(r, "argv"), "argv");
    if (profile.argv.empty() || profile.argv[0].empty())
        throw Error("plugin " + plugin.name() + ": the profile of agent " + ctx.agent +
                    " names no executable (argv is empty)");
    if (const auto &egress = field(r, "egress"); egress.is_array())
        for (const auto &e : egress.as_array()) {
            if (!e.is_object() || string_field(e.as_object(), "entry").empty() ||
                string_field(e.as_object(), "reason").empty())
                throw Error("plugin " + plugin.name() +
                            ": every egress entry needs an \"entry\" and a \"reason\"");
            profile.egress.emplace_back(string_field(e.as_object(), "entry"),
                                        string_field(e.as_object(), "reason"));
        }
    profile.env_passthrough = strings_of(field(r, "env_passthrough"), "env_passthrough");
    if (const auto &env = field(r, "env"); env.is_object())
        for (const auto &kv : env.as_object()) {
            if (!kv.value().is_string())
                throw Error("plugin " + plugin.name() + ": env values must be strings");
            profile.env.push_back(
                parse_env_entry(std::string(kv.key()) + "=" + std::string(kv.value().as_string()),
                                "agent " + ctx.agent + " env"));
        }
    if (const auto &persist = field(r, "persist"); persist.is_array())
        for (const auto &p : persist.as_array()) {
            if (!p.is_object())
                throw Error("plugin " + plugin.name() + ": persist entries must be objects");
            std::string name = string_field(p.as_object(), "name");
            std::string target = string_field(p.as_object(), "target");
            if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." ||
                target.empty() || target.front() != '/')
                throw Error("plugin " + plugin.name() +
                            ": persist entries need a plain \"name\" and an absolute \"target\"");
            profile.persist.emplace_back(name, target);
        }
    profile.protect = strings_of(field(r, "protect"), "protect");
    return profile;
}

// --- network ---------------------------------------------------------------------------------

const LoadedPlugin &network_plugin(const PluginRegistry &registry, const std::string &firewall) {
    std::string wanted = "net-" + firewall;
    const LoadedPlugin *plugin = registry.find(wanted);
    if (!plugin || !plugin->network())
        throw UsageError("firewall \"" + firewall + "\": no network plugin " + wanted +
                         " is loaded; use --firewall nftables (the default) or iptables");
    return *plugin;
}

// The engine network the container joins: a network of its own (a name), never one that shares
// another network namespace, where the firewall would be installed for someone else.
std::string engine_network(const std::string &name) {
    if (name.empty())
        return name;
    const std::string shown = text::quoted(name, 80);
    if (name == "host")
        throw UsageError("--network " + shown + " shares the host's network namespace: the sandbox's "
                         "firewall would be installed in the host's own and the agent would be on the host's "
                         "network; use a network of its own (`docker network create NAME`, then --network "
                         "NAME) or leave the option out");
    const bool named = std::isalnum(static_cast<unsigned char>(name[0])) && name.size() <= 128 &&
                       std::all_of(name.begin(), name.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '_' || c == '.' || c == '-';
                       });
    if (!named)
        throw UsageError("--network " + shown + " is not a network name (letters, digits, '_', '.', '-'); "
                         "sharing another container's or namespace's network (container:..., ns:...) is not "
                         "allowed, because the sandbox's firewall would be installed there; use a network of "
                         "its own (`docker network create NAME`)");
    return name;
}

PlanNetwork build_network(const Config &config, const PluginRegistry &registry,
                          const AgentProfile &agent, std::vector<std::string> &warnings) {
    PlanNetwork network;
    network.allow_lan = config.allow_lan;
    network.engine_network = engine_network(config.network);
    const LoadedPlugin &plugin = network_plugin(registry, config.firewall);
    network.firewall = plugin.name();

    // Each entry remembers who asked for it; the plugin normalises the whole list at once.
    std::vector<std::string> entries;
    std::vector<std::string> reasons;
    for (const auto &d : config.allow_domains) {
        entries.push_back(d);
        reasons.emplace_back("allowed by you (--allow-domains / config)");
    }
    for (const auto &[entry, reason] : agent.egress) {
        entries.push_back(entry);
        reasons.push_back("required by agent: " + reason);
    }
    json::object request{{"entries", json::value_from(entries)},
                         {"allow_lan", config.allow_lan},
                         {"dns_servers", json::value_from(config.dns_servers)}};
    json::value result = plugin.call("network.normalize", plugin.network()->normalize, request);
    if (!result.is_object())
        throw Error("plugin " + plugin.name() + ": network.normalize must return an object");
    const auto &r = result.as_object();
    const auto &normalized = field(r, "entries");
    if (!normalized.is_array())
        throw Error("plugin " + plugin.name() + ": network.normalize returned no entries array");
    for (const auto &e : normalized.as_array()) {
        if (!e.is_object())
            throw Error("plugin " + plugin.name() + ": network entries must be objects");
        const auto &o = e.as_object();
        PlanEgress egress;
        egress.kind = string_field(o, "kind");
        egress.value = string_field(o, "value");
        egress.protocol = string_field(o, "protocol").empty() ? "tcp" : string_field(o, "protocol");
        if (const auto &ports = field(o, "ports"); ports.is_array())
            for (const auto &p : ports.as_array())
                egress.ports.push_back(static_cast<std::uint16_t>(p.to_number<int>()));
        // The reason: every original entry that normalised to this value.
        std::set<std::string> why;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            std::string lowered = entries[i];
            std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (lowered.find(egress.value) != std::string::npos)
                why.insert(reasons[i]);
        }
        egress.reason = join(std::vector<std::string>(why.begin(), why.end()), "; ");
        network.allow.push_back(std::move(egress));
    }
    network.dns_servers = strings_of(field(r, "dns_servers"), "dns_servers");
    if (std::find(network.dns_servers.begin(), network.dns_servers.end(), "any") !=
        network.dns_servers.end()) {
        network.mode = "any";
        network.dns_servers.clear();
    }
    for (const auto &w : strings_of(field(r, "warnings"), "warnings"))
        warnings.push_back(w);
    return network;
}

// --- resources -------------------------------------------------------------------------------

PlanResources build_resources(const Config &config, const PluginRegistry &registry,
                              std::vector<std::string> &warnings) {
    const LoadedPlugin *plugin = nullptr;
    for (const auto &p : registry.plugins())
        if (p->resource()) {
            if (plugin)
                throw UsageError("two resource-policy plugins are loaded (" + plugin->path() + " and " +
                                 p->path() + "); load only one");
            plugin = p.get();
        }
    if (!plugin)
        throw Error("no resource-policy plugin is loaded (the built-in `resources` plugin is missing "
                    "from " + builtin_plugin_dir() + "); reinstall rustyolo");
    json::object request{{"memory", config.memory}, {"cpus", config.cpus}, {"pids_limit", config.pids_limit}};
    json::value result = plugin->call("resource.resolve", plugin->resource()->resolve, request);
    const auto &r = result.as_object();
    PlanResources resources;
    if (const auto &m = field(r, "memory_bytes"); !m.is_null())
        resources.memory_bytes = m.to_number<std::int64_t>();
    if (const auto &c = field(r, "cpus"); !c.is_null())
        resources.cpus = c.to_number<double>();
    // The engine refuses more CPUs than the machine has; a limit above that limits nothing, so it
    // is capped (the seed's default of 4 on a 2-CPU machine is the common case, and stays quiet).
    long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (resources.cpus && online > 0 && *resources.cpus > static_cast<double>(online)) {
        if (config.cpus != default_layer().cpus.value_or(""))
            warnings.push_back("--cpus " + config.cpus + " is more than the " + std::to_string(online) +
                               " CPUs of this machine; the limit is " + std::to_string(online));
        resources.cpus = static_cast<double>(online);
    }
    if (const auto &p = field(r, "pids"); !p.is_null())
        resources.pids = p.to_number<std::int64_t>();
    for (const auto &w : strings_of(field(r, "warnings"), "warnings"))
        warnings.push_back(w);
    return resources;
}

// --- syscalls --------------------------------------------------------------------------------

PlanSyscalls build_syscalls(const Config &config, const PluginRegistry &registry, const BuildContext &ctx,
                            std::vector<std::string> &warnings) {
    const LoadedPlugin *plugin = registry.find("seccomp");
    if (!plugin || !plugin->syscall())
        throw Error("the syscall-policy plugin `seccomp` is not loaded (missing from " +
                    builtin_plugin_dir() + "); reinstall rustyolo");
    std::string profile = config.seccomp_profile.empty() ? "default" : config.seccomp_profile;
    json::object request{{"profile", profile}};
    if (profile != "default" && profile != "none") {
        fs::path file = expand_tilde(profile, ctx.home);
        request["path"] = (file.is_absolute() ? file : fs::path(ctx.cwd) / file).lexically_normal().string();
    }
    json::value result = plugin->call("syscall.prepare", plugin->syscall()->prepare, request);
    const auto &r = result.as_object();
    PlanSyscalls syscalls;
    syscalls.plugin = plugin->name();
    syscalls.mode = string_field(r, "mode");
    syscalls.profile = field(r, "profile");
    syscalls.engine_profile = field(r, "engine_profile");
    for (const auto &w : strings_of(field(r, "warnings"), "warnings"))
        warnings.push_back(w);
    return syscalls;
}

// --- mounts ----------------------------------------------------------------------------------

std::string file_type_of(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return "missing";
    if (S_ISDIR(st.st_mode)) return "directory";
    if (S_ISREG(st.st_mode)) return "regular";
    if (S_ISSOCK(st.st_mode)) return "socket";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "device";
    if (S_ISFIFO(st.st_mode)) return "fifo";
    return "other";
}

// Asks every mount-guard plugin; the first refusal wins and names its rule.
void judge_mount(const PluginRegistry &registry, const MountSpec &spec, const std::string &origin,
                 const BuildContext &ctx) {
    const std::string &home = ctx.home;
    bool judged = false;
    for (const auto &p : registry.plugins()) {
        if (!p->mount())
            continue;
        judged = true;
        json::object request{{"source", spec.source},       {"requested", spec.requested},
                             {"target", spec.target},       {"readonly", spec.readonly},
                             {"file_type", spec.file_type}, {"home", home},
                             {"origin", origin}};
        json::value verdict = p->call("mount.judge", p->mount()->judge, request);
        if (!verdict.is_object())
            throw Error("plugin " + p->name() + ": mount.judge must return an object");
        const auto &v = verdict.as_object();
        if (string_field(v, "verdict") == "allow")
            continue;
        std::string what = origin == "project" ? "the project directory " + spec.source
                                               : "mount \"" + spec.requested + "\"";
        if (ctx.on_mount_refused)
            ctx.on_mount_refused(json::object{{"source", spec.requested.substr(0, spec.requested.find(':'))},
                                              {"spec", spec.requested},
                                              {"canonical", spec.source},
                                              {"target", spec.target},
                                              {"origin", origin},
                                              {"rule", string_field(v, "rule")},
                                              {"reason", string_field(v, "reason")}});
        throw UsageError(what + " refused by " + p->name() + " (rule " + string_field(v, "rule") +
                         "): " + string_field(v, "reason"));
    }
    if (!judged)
        throw Error("no mount-guard plugin is loaded (the built-in `mount-guard` plugin is missing "
                    "from " + builtin_plugin_dir() + "); rustyolo does not mount anything unguarded");
}

MountSpec direct_mount(const std::string &source, const std::string &target, bool readonly) {
    MountSpec spec;
    spec.requested = source;
    spec.source = canonicalize_path(source);
    spec.target = target;
    spec.readonly = readonly;
    spec.file_type = file_type_of(spec.source);
    return spec;
}

void create_private_dir(const std::string &path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec)
        throw Error("cannot create " + path + ": " + ec.message() + "; check --auth-home");
    ::chmod(path.c_str(), 0700);
}

// The identity ("st_dev:st_ino") of a mount source as the CLI checks it, for the entrypoint to
// compare with what the engine mounted (entrypoint/mount_check.hpp). "" when it does not exist.
// A source that is a symbolic link now was changed since it was canonicalised or judged.
std::string source_identity(const std::string &path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return "";
    if (S_ISLNK(st.st_mode))
        throw Error(path + " became a symbolic link while rustyolo checked it (something is changing the "
                           "project or the mount sources right now); nothing was started");
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

bool has_mount_target(const Plan &plan, const std::string &target) {
    return std::any_of(plan.mounts.begin(), plan.mounts.end(),
                       [&](const PlanMount &m) { return m.target == target; });
}

// Protects one project-relative path: read-only inside, also when it does not exist yet.
//  - Every directory between the project and the path is bind-mounted onto itself (read-write):
//    a mount point cannot be renamed, so the agent cannot move `.git` aside and build a new
//    `.git/hooks` in its place.
//  - If an existing ancestor is not a directory (e.g. `.git` is a file in a worktree), that
//    ancestor is protected instead: the path can only appear by replacing it.
//  - Symbolic links are refused: a link cannot be protected safely.
//  - A missing path is created as a placeholder (through the project's placeholder registry, which
//    also knows the placeholders of other live sessions) holding `content`.
void protect_path(Plan &plan, const std::string &relative, const BuildContext &ctx, std::string_view content = {}) {
    bool want_dir = !relative.empty() && relative.back() == '/';
    fs::path rel = fs::path(relative).lexically_normal();
    if (!rel.empty() && rel.filename().empty())
        rel = rel.parent_path();  // "dir/" → "dir"
    if (rel.is_absolute() || rel.empty() || *rel.begin() == "..")
        throw Error("protected path \"" + relative + "\" must stay inside the project");
    const fs::path host = fs::path(ctx.cwd);
    const fs::path inside = fs::path(plan.workdir);

    std::vector<fs::path> parts;
    for (const auto &part : rel)
        if (!part.empty())
            parts.push_back(part);
    fs::path walked;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        walked /= parts[i];
        const bool last = i + 1 == parts.size();
        const fs::path source = host / walked;
        const std::string target = (inside / walked).string();
        struct stat st {};
        bool exists = ::lstat(source.c_str(), &st) == 0;
        if (exists && S_ISLNK(st.st_mode))
            throw UsageError("protected path " + source.string() +
                             " is a symbolic link; rustyolo cannot make it read-only safely. Replace "
                             "the link with the file it points to, or move it out of the project");
        const bool is_dir = exists ? S_ISDIR(st.st_mode) : (!last || want_dir);
        bool placeholder = !exists;
        if (ctx.placeholders) {
            placeholder = ctx.placeholders->hold(source, is_dir, last ? content : std::string_view{},
                                                 plan.user.uid, plan.user.gid);
            if (placeholder && std::find(plan.created_paths.begin(), plan.created_paths.end(), source.string()) ==
                                   plan.created_paths.end())
                plan.created_paths.push_back(source.string());
        }
        const std::string note = placeholder ? " (did not exist: placeholder)" : "";
        // What was checked above, or the placeholder just made (never anything a link leads to).
        const std::string identity = exists ? std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)
                                            : source_identity(source.string());
        if (last || !is_dir) {
            if (!has_mount_target(plan, target))
                plan.mounts.push_back(PlanMount{source.string(), target, true, "protect",
                                                "read-only: " + walked.string() +
                                                    " is executed or read by the host later" + note,
                                                placeholder, identity});
            return;
        }
        if (!has_mount_target(plan, target))
            plan.mounts.push_back(PlanMount{source.string(), target, false, "pin",
                                            "mount point, so that it cannot be renamed to replace the "
                                            "protected paths inside it" + note,
                                            placeholder, identity});
    }
}

}  // namespace

const std::vector<std::string> &default_protected_paths() {
    static const std::vector<std::string> paths{".rustyolo.toml", ".envrc", ".vscode/", ".idea/"};
    return paths;
}

const LoadedPlugin &find_agent_plugin(const PluginRegistry &registry, const std::string &agent) {
    const LoadedPlugin *found = nullptr;
    std::vector<std::string> known;
    for (const auto &p : registry.plugins()) {
        if (!p->agent())
            continue;
        for (const auto &name : p->call_names("agent.names", p->agent()->names)) {
            known.push_back(name);
            if (name != agent)
                continue;
            if (found)
                throw UsageError("agent \"" + agent + "\" is served by two plugins: " + found->path() +
                                 " and " + p->path() + "; drop one of them");
            found = p.get();
        }
    }
    if (!found)
        throw UsageError("unknown agent \"" + agent + "\"; available: " + join(known) +
                         ". A third-party agent is loaded with --plugin FILE");
    return *found;
}

const LoadedPlugin &find_runtime_plugin(const PluginRegistry &registry, const std::string &runtime) {
    std::vector<std::string> known;
    for (const auto &p : registry.plugins()) {
        if (!p->runtime())
            continue;
        for (const auto &name : p->call_names("runtime.names", p->runtime()->names)) {
            if (name == runtime)
                return *p;
            known.push_back(name);
        }
    }
    throw UsageError("--runtime " + runtime + ": no runtime plugin serves it; available: " + join(known));
}

std::string new_session_id() {
    unsigned char bytes[6];
    std::ifstream random("/dev/urandom", std::ios::binary);
    if (!random.read(reinterpret_cast<char *>(bytes), sizeof bytes))
        throw Error("cannot read /dev/urandom for a session id");
    static const char *hex = "0123456789abcdef";
    std::string id;
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    return id;
}

Plan build_plan(const Config &config, const PluginRegistry &registry, const BuildContext &ctx) {
    Plan plan;
    plan.session = ctx.session;
    plan.image = config.image;
    plan.runtime = config.runtime;
    plan.project = ctx.cwd;
    find_runtime_plugin(registry, config.runtime);  // fails early on an unknown runtime

    if (config.audit_log != "none" && config.audit_log != "basic" && config.audit_log != "verbose")
        throw UsageError("--audit-log \"" + config.audit_log +
                         "\": not a level; use none, basic (blocked actions, the default) or verbose "
                         "(allowed ones too)");
    plan.audit.level = config.audit_log;

    // The agent never runs as root: a root caller (e.g. via sudo) maps to the sudo user or 1000.
    plan.user.uid = ctx.uid;
    plan.user.gid = ctx.gid;
    if (plan.user.uid == 0) {
        const char *sudo_uid = ctx.getenv_fn("SUDO_UID");
        const char *sudo_gid = ctx.getenv_fn("SUDO_GID");
        unsigned long u = sudo_uid ? std::strtoul(sudo_uid, nullptr, 10) : 0;
        unsigned long g = sudo_gid ? std::strtoul(sudo_gid, nullptr, 10) : 0;
        plan.user.uid = u > 0 && u < 0xfffffffe ? static_cast<std::uint32_t>(u) : 1000;
        plan.user.gid = g > 0 && g < 0xfffffffe ? static_cast<std::uint32_t>(g) : 1000;
        plan.warnings.push_back("you run rustyolo as root; the agent runs as uid " +
                                std::to_string(plan.user.uid) + ", gid " + std::to_string(plan.user.gid) +
                                " instead (never as root)");
    }
    if (plan.user.gid == 0)
        plan.user.gid = plan.user.uid;

    // Agent.
    const LoadedPlugin &agent_plugin = find_agent_plugin(registry, ctx.agent);
    AgentProfile agent = agent_profile(agent_plugin, config, ctx);
    plan.agent = PlanAgent{ctx.agent, agent.plugin, agent.argv};

    plan.network = build_network(config, registry, agent, plan.warnings);
    plan.resources = build_resources(config, registry, plan.warnings);
    plan.syscalls = build_syscalls(config, registry, ctx, plan.warnings);

    // Environment: the agent's fixed values, the API keys it needs (by name, only when set on the
    // host), then the user's entries.
    plan.env = agent.env;
    for (const auto &name : agent.env_passthrough) {
        PlanEnv pass = parse_env_entry(name, "agent " + ctx.agent + " env_passthrough");
        const char *value = ctx.getenv_fn(pass.name.c_str());
        if (value && *value)
            plan.env.push_back(pass);
    }
    for (const auto &entry : config.env) {
        PlanEnv env = parse_env_entry(entry, "-e/--env");
        if (!env.value) {
            const char *value = ctx.getenv_fn(env.name.c_str());
            if (!value)
                throw UsageError("-e " + env.name + ": not set in your environment; set it, or give "
                                 "a value with -e " + env.name + "=VALUE");
        }
        plan.env.push_back(std::move(env));
    }

    // Mounts: the project, the user's volumes, the agent's persistent dirs, protected paths.
    MountSpec project = direct_mount(ctx.cwd, plan.workdir, false);
    judge_mount(registry, project, "project", ctx);
    plan.mounts.push_back(PlanMount{project.source, plan.workdir, false, "project", "the project", false,
                                    source_identity(project.source)});
    for (const auto &volume : config.volumes) {
        MountSpec spec = parse_mount_spec(volume, ctx.home, ctx.cwd);
        judge_mount(registry, spec, "volume", ctx);
        plan.mounts.push_back(PlanMount{spec.source, spec.target, spec.readonly, "volume",
                                        "requested: " + spec.requested, false, source_identity(spec.source)});
    }
    if (!agent.persist.empty()) {
        std::string auth_home = expand_tilde(config.auth_home, ctx.home);
        if (!fs::path(auth_home).is_absolute())
            auth_home = (fs::path(ctx.cwd) / auth_home).lexically_normal().string();
        for (const auto &[name, target] : agent.persist) {
            std::string dir = auth_home + "/" + name;
            if (ctx.prepare_host)
                create_private_dir(dir);
            MountSpec spec = direct_mount(dir, target, false);
            if (!ctx.prepare_host && spec.file_type == "missing")
                spec.file_type = "directory";  // would be created by a real start
            judge_mount(registry, spec, "auth", ctx);
            plan.mounts.push_back(PlanMount{spec.source, target, false, "auth",
                                            "persistent " + ctx.agent + " state under --auth-home", false,
                                            source_identity(spec.source)});
        }
    }
    for (const auto &git : git_protected_paths(ctx.cwd))
        protect_path(plan, git.relative, ctx, git.content);
    for (const auto &path : default_protected_paths())
        protect_path(plan, path, ctx);
    for (const auto &path : agent.protect)
        protect_path(plan, path, ctx);

    plan.container_plugins = {plan.network.firewall, plan.syscalls.plugin};
    return plan;
}

}  // namespace rustyolo
