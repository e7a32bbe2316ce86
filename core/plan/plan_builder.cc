#include "core/plan/plan_builder.hpp"

#include "core/config/config_env.hpp"
#include "core/config/env_policy.hpp"
#include "core/error.hpp"
#include "core/host/git_dirs.hpp"
#include "core/host/idmap.hpp"
#include "core/host/project_mounts.hpp"
#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/text.hpp>
#include "core/config/mount_spec.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <tuple>

namespace rustyolo {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

using text::join;
using sdk::JsonReader;

// Bounds on what the host takes from one plugin answer.
constexpr std::size_t kMaxAnswerText = 64 * 1024;  // one string (an injected system prompt fits)
constexpr std::size_t kMaxAnswerItems = 4096;      // one list
constexpr std::size_t kMaxEntryValue = 512;        // a normalised allow entry's value

// Reads `plugin`'s answer to `call` with `read(JsonReader)`. A malformed answer is an Error that
// names the plugin, the call, the JSON path and what was expected, then the plugin's file.
template <class Read>
auto read_answer(const LoadedPlugin &plugin, const std::string &call, const json::value &answer, Read &&read) {
    try {
        return read(JsonReader(answer, "plugin \"" + plugin.name() + "\" " + call + " result"));
    } catch (const sdk::JsonError &e) {
        throw Error(std::string(e.what()) + " (plugin file " + plugin.path() +
                    "); the plugin broke its contract: update it, or remove it from the plugin directory "
                    "or the --plugin options");
    }
}

std::string bounded_text(const JsonReader &r, std::string_view key, std::size_t max = kMaxAnswerText) {
    std::string value = r.str(key);
    if (value.size() > max)
        r.fail_at(key, "longer than " + std::to_string(max) + " bytes");
    return value;
}

std::string nonempty_text(const JsonReader &r, std::string_view key, std::size_t max = kMaxAnswerText) {
    std::string value = bounded_text(r, key, max);
    if (value.empty())
        r.fail_at(key, "expected a non-empty string");
    return value;
}

// An array of strings (absent or null: none), each and the count bounded.
std::vector<std::string> bounded_strings(const JsonReader &r, std::string_view key) {
    std::vector<std::string> values = r.strings(key);
    if (values.size() > kMaxAnswerItems)
        r.fail_at(key, "more than " + std::to_string(kMaxAnswerItems) + " items");
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i].size() > kMaxAnswerText)
            r.fail(r.at(key) + "/" + std::to_string(i), "longer than " + std::to_string(kMaxAnswerText) + " bytes");
    return values;
}

// An array field's item count, checked before each(); absent or null is 0.
void check_item_count(const JsonReader &r, std::string_view key) {
    const json::value *v = r.find(key);
    if (v && v->is_array() && v->as_array().size() > kMaxAnswerItems)
        r.fail_at(key, "more than " + std::to_string(kMaxAnswerItems) + " items");
}

// A field that must be present; null is its documented "no value".
const json::value *present_or_null(const JsonReader &r, std::string_view key, const std::string &null_means) {
    if (!r.object().contains(key))
        r.fail_at(key, "missing (null means " + null_means + ")");
    return r.find(key);
}

// --- plugin dispatch -------------------------------------------------------------------------

bool implements(const LoadedPlugin &plugin, const std::string &hook) {
    const std::vector<std::string> hooks = plugin.hooks();
    return std::find(hooks.begin(), hooks.end(), hook) != hooks.end();
}

// The names a plugin serves for a role keyed by name (agent.names, runtime.names).
std::vector<std::string> served_names(const LoadedPlugin &plugin, const std::string &hook) {
    if (hook == "agent")
        return plugin.call_names("agent.names", plugin.agent()->names);
    if (hook == "runtime")
        return plugin.call_names("runtime.names", plugin.runtime()->names);
    throw std::logic_error("plugins_for: the " + hook + " hook has no names call to serve a name");
}

// --- agent -----------------------------------------------------------------------------------

// A host name as a manifest names it (decline, vendor_domains): lower-case labels of letters,
// digits and '-', 1-63 bytes each, at most 253 in all; with `wildcard`, "*." may lead.
bool manifest_host(std::string_view host, bool wildcard) {
    if (wildcard && host.substr(0, 2) == "*.")
        host.remove_prefix(2);
    if (host.empty() || host.size() > 253)
        return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= host.size(); ++i) {
        if (i == host.size() || host[i] == '.') {
            if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-')
                return false;
            label = 0;
            continue;
        }
        const char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        ++label;
    }
    return true;
}

AgentProfile agent_profile(const LoadedPlugin &plugin, const Config &config, const BuildContext &ctx) {
    return agent_profile_of(plugin, ctx.agent, ctx.agent_args, ctx.agent_args_given, config.inject_message);
}

}  // namespace

AgentProfile agent_manifest_of(const LoadedPlugin &plugin, const std::string &agent) {
    return agent_profile_of(plugin, agent, {"--version"}, true, std::string("none"));
}

AgentProfile agent_profile_of(const LoadedPlugin &plugin, const std::string &agent,
                              const std::vector<std::string> &args, bool user_args,
                              const std::optional<std::string> &inject_message) {
    json::object request{{"agent", agent},
                         {"args", json::value_from(args)},
                         {"user_args", user_args},
                         {"inject_message", inject_message ? json::value(*inject_message) : json::value(nullptr)},
                         {"workdir", "/app"},
                         {"home", "/home/agent"}};
    json::value result = plugin.call("agent.profile", plugin.agent()->profile, request);
    return read_answer(plugin, "agent.profile", result, [&](const JsonReader &r) {
        AgentProfile profile;
        profile.plugin = plugin.name();
        profile.agent = agent;
        profile.argv = bounded_strings(r, "argv");
        if (profile.argv.empty())
            r.fail_at("argv", "missing or empty: the profile of agent \"" + agent + "\" must name its executable");
        if (profile.argv[0].empty())
            r.fail(r.at("argv") + "/0", "the executable is an empty string");
        profile.version = r.str_or("version", "");
        if (profile.version.size() > 64)
            r.fail_at("version", "longer than 64 bytes");
        check_item_count(r, "egress");
        r.each("egress", [&](const JsonReader &e) {
            profile.egress.emplace_back(nonempty_text(e, "entry", kMaxEntryValue), nonempty_text(e, "reason"));
        });
        profile.vendor_domains = bounded_strings(r, "vendor_domains");
        for (std::size_t i = 0; i < profile.vendor_domains.size(); ++i)
            if (!manifest_host(profile.vendor_domains[i], false) ||
                profile.vendor_domains[i].find('.') == std::string::npos)
                r.fail(r.at("vendor_domains") + "/" + std::to_string(i),
                       text::quoted(profile.vendor_domains[i], 80) + " is not a domain name (lower-case "
                       "labels of letters, digits and '-', with at least one dot)");
        check_item_count(r, "decline");
        r.each("decline", [&](const JsonReader &d) {
            std::string host = nonempty_text(d, "host", kMaxEntryValue);
            if (!manifest_host(host, true))
                d.fail_at("host", text::quoted(host, 80) + " is not a host name (lower-case labels of letters, "
                                  "digits and '-'; \"*.\" may lead)");
            for (const auto &[entry, reason] : profile.egress)
                if (entry == host)
                    d.fail_at("host", text::quoted(host, 80) + " is both declined and an egress entry; a host is "
                                      "either needed (egress) or not (decline)");
            profile.decline.emplace_back(std::move(host), nonempty_text(d, "reason"));
        });
        profile.env_passthrough = bounded_strings(r, "env_passthrough");
        if (const json::value *install = r.find("install"); install && !install->is_null()) {
            if (!install->is_object())
                r.fail_at("install", "expected an object such as {\"npm\": [\"package@version\"]}");
            profile.install_npm = bounded_strings(JsonReader(*install, r.document(), r.at("install")), "npm");
        }
        if (const json::value *env = r.find("env")) {
            if (!env->is_object())
                r.fail_at("env", "expected an object of NAME: value strings");
            if (env->as_object().size() > kMaxAnswerItems)
                r.fail_at("env", "more than " + std::to_string(kMaxAnswerItems) + " variables");
            for (const auto &kv : env->as_object()) {
                const std::string at = r.at("env") + "/" + std::string(kv.key());
                if (!kv.value().is_string())
                    r.fail(at, "expected a string");
                if (kv.value().as_string().size() > kMaxAnswerText)
                    r.fail(at, "longer than " + std::to_string(kMaxAnswerText) + " bytes");
                profile.env.push_back(
                    parse_env_entry(std::string(kv.key()) + "=" + std::string(kv.value().as_string()),
                                    "agent " + agent + " env"));
            }
        }
        check_item_count(r, "persist");
        r.each("persist", [&](const JsonReader &p) {
            std::string name = nonempty_text(p, "name", 255);
            if (name.find('/') != std::string::npos || name == "." || name == "..")
                p.fail_at("name", "\"" + name + "\" is not a plain directory name (no '/', not . or ..)");
            std::string target = nonempty_text(p, "target", 4096);
            if (target.front() != '/')
                p.fail_at("target", "\"" + target + "\" is not an absolute path");
            profile.persist.emplace_back(std::move(name), std::move(target));
        });
        // Each protected path: a string, or {"path", "reason"}.
        check_item_count(r, "protect");
        if (const json::value *protect = r.find("protect"); protect && !protect->is_null()) {
            if (!protect->is_array())
                r.fail_at("protect", "expected an array of paths or {\"path\", \"reason\"} objects");
            const json::array &items = protect->as_array();
            for (std::size_t i = 0; i < items.size(); ++i) {
                const std::string at = r.at("protect") + "/" + std::to_string(i);
                if (items[i].is_string()) {
                    std::string path(items[i].as_string());
                    if (path.empty() || path.size() > 4096)
                        r.fail(at, "expected a non-empty path of at most 4096 bytes");
                    profile.protect.emplace_back(std::move(path), "");
                } else if (items[i].is_object()) {
                    const JsonReader item(items[i], r.document(), at);
                    std::string path = nonempty_text(item, "path", 4096);
                    std::string reason = item.str_or("reason", "");
                    if (reason.size() > kMaxAnswerText)
                        item.fail_at("reason", "longer than " + std::to_string(kMaxAnswerText) + " bytes");
                    profile.protect.emplace_back(std::move(path), std::move(reason));
                } else {
                    r.fail(at, "expected a path or a {\"path\", \"reason\"} object");
                }
            }
        }
        return profile;
    });
}

namespace {

// --- network ---------------------------------------------------------------------------------

// The engine network the container joins: a network of its own (a name), never one that shares
// another network namespace, where the firewall would be installed for someone else.
std::string engine_network(const std::string &name) {
    if (name.empty())
        return name;
    const std::string shown = text::quoted(name, 80);
    if (name == "host")
        throw UsageError("--network " + shown + " shares the host's network namespace: the sandbox's "
                         "firewall would be installed in the host's own and the agent would be on the host's "
                         "network; use a network of its own (the engine's `network create NAME`, then "
                         "--network NAME) or leave the option out");
    const bool named = std::isalnum(static_cast<unsigned char>(name[0])) && name.size() <= 128 &&
                       std::all_of(name.begin(), name.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '_' || c == '.' || c == '-';
                       });
    if (!named)
        throw UsageError("--network " + shown + " is not a network name (letters, digits, '_', '.', '-'); "
                         "sharing another container's or namespace's network (container:..., ns:...) is not "
                         "allowed, because the sandbox's firewall would be installed there; use a network of "
                         "its own (the engine's `network create NAME`)");
    return name;
}

// What one normalised entry is, for matching it with the requested entries it came from.
using EgressKey = std::tuple<std::string, std::string, std::string>;  // kind, value, protocol

struct Normalized {
    std::vector<PlanEgress> allow;  // without reasons
    std::vector<std::string> dns_servers;
    std::vector<std::string> warnings;
};

Normalized normalize(const LoadedPlugin &plugin, const std::vector<std::string> &entries, bool allow_lan,
                     const std::vector<std::string> &dns_servers) {
    json::object request{{"entries", json::value_from(entries)},
                         {"allow_lan", allow_lan},
                         {"dns_servers", json::value_from(dns_servers)}};
    json::value result = plugin.call("network.normalize", plugin.network()->normalize, request);
    return read_answer(plugin, "network.normalize", result, [&](const JsonReader &r) {
        Normalized out;
        if (!r.find("entries"))
            r.fail_at("entries", "missing (the normalised allow entries, [] when none)");
        check_item_count(r, "entries");
        r.each("entries", [&](const JsonReader &e) {
            PlanEgress egress;
            egress.kind = e.one_of("kind", {"name", "wildcard", "cidr"});
            egress.value = nonempty_text(e, "value", kMaxEntryValue);
            egress.ports = e.ports("ports");
            if (egress.ports.size() > 65535)
                e.fail_at("ports", "more than 65535 ports");
            egress.protocol = e.str_or("protocol", "tcp");
            e.expect_one_of("protocol", egress.protocol, {"tcp", "udp"});
            out.allow.push_back(std::move(egress));
        });
        out.dns_servers = bounded_strings(r, "dns_servers");
        out.warnings = bounded_strings(r, "warnings");
        return out;
    });
}

PlanNetwork build_network(const Config &config, const LoadedPlugin &plugin, const AgentProfile &agent,
                          std::vector<std::string> &warnings) {
    PlanNetwork network;
    network.allow_lan = config.allow_lan;
    network.engine_network = engine_network(config.network);
    network.firewall = plugin.name();

    // Each requested entry remembers who asked for it.
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
    // The whole list, normalised (validated, duplicates merged) by the firewall plugin.
    Normalized all = normalize(plugin, entries, config.allow_lan, config.dns_servers);
    // Each requested entry alone: exactly the normalised entries it accounts for.
    std::map<EgressKey, std::set<std::string>> why;
    std::map<std::string, std::vector<EgressKey>> produced;  // by requested entry text
    for (std::size_t i = 0; i < entries.size(); ++i) {
        auto known = produced.find(entries[i]);
        if (known == produced.end()) {
            std::vector<EgressKey> keys;
            for (const PlanEgress &e : normalize(plugin, {entries[i]}, config.allow_lan, config.dns_servers).allow)
                keys.emplace_back(e.kind, e.value, e.protocol);
            known = produced.emplace(entries[i], std::move(keys)).first;
        }
        for (const EgressKey &key : known->second)
            why[key].insert(reasons[i]);
    }
    for (std::size_t i = 0; i < all.allow.size(); ++i) {
        PlanEgress &egress = all.allow[i];
        auto found = why.find(EgressKey{egress.kind, egress.value, egress.protocol});
        if (found == why.end())
            throw Error("plugin \"" + plugin.name() + "\" network.normalize result: /entries/" + std::to_string(i) +
                        ": " + egress.kind + " \"" + egress.value + "\" (" + egress.protocol +
                        ") comes from none of the requested entries (" + join(entries) + "); a firewall plugin "
                        "may only normalise what it is asked to allow (plugin file " + plugin.path() +
                        "): update it, or remove it");
        egress.reason = join(std::vector<std::string>(found->second.begin(), found->second.end()), "; ");
        network.allow.push_back(std::move(egress));
    }
    network.dns_servers = std::move(all.dns_servers);
    if (std::find(network.dns_servers.begin(), network.dns_servers.end(), "any") != network.dns_servers.end()) {
        network.mode = "any";
        network.dns_servers.clear();
    }
    for (auto &w : all.warnings)
        warnings.push_back(std::move(w));
    return network;
}

// --- resources -------------------------------------------------------------------------------

PlanResources build_resources(const Config &config, const LoadedPlugin &plugin, std::vector<std::string> &warnings) {
    json::object request{{"memory", config.memory}, {"cpus", config.cpus}, {"pids_limit", config.pids_limit}};
    // Empty: the plugin's default size.
    request["tmp_size"] = config.tmp_size ? json::value(*config.tmp_size) : json::value(nullptr);
    request["home_size"] = config.home_size ? json::value(*config.home_size) : json::value(nullptr);
    json::value result = plugin.call("resource.resolve", plugin.resource()->resolve, request);
    PlanResources resources = read_answer(plugin, "resource.resolve", result, [&](const JsonReader &r) {
        PlanResources out;
        if (present_or_null(r, "memory_bytes", "no memory limit"))
            out.memory_bytes = r.integer("memory_bytes", 1, std::numeric_limits<std::int64_t>::max());
        if (present_or_null(r, "cpus", "no CPU limit")) {
            const double cpus = r.number("cpus");
            if (!std::isfinite(cpus) || cpus <= 0 || cpus > 4096)
                r.fail_at("cpus", "expected a number of CPUs above 0 and at most 4096");
            out.cpus = cpus;
        }
        if (present_or_null(r, "pids", "no process limit"))
            out.pids = r.integer("pids", 1, 4194304);  // Linux's PID_MAX_LIMIT
        // The tmpfs sizes are never unlimited (an unsized tmpfs may take half of the host's memory).
        const std::int64_t max = std::numeric_limits<std::int64_t>::max();
        out.tmp_bytes = r.integer("tmp_bytes", 1, max);
        out.home_bytes = r.integer("home_bytes", 1, max);
        out.shm_bytes = r.integer("shm_bytes", 1, max);
        for (auto &w : bounded_strings(r, "warnings"))
            warnings.push_back(std::move(w));
        return out;
    });
    // The engine refuses more CPUs than the machine has; a limit above that limits nothing, so it
    // is capped (the seed's default of 4 on a 2-CPU machine is the common case, and stays quiet).
    long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (resources.cpus && online > 0 && *resources.cpus > static_cast<double>(online)) {
        if (config.cpus != default_layer().cpus.value_or(""))
            warnings.push_back("--cpus " + config.cpus + " is more than the " + std::to_string(online) +
                               " CPUs of this machine; the limit is " + std::to_string(online));
        resources.cpus = static_cast<double>(online);
    }
    return resources;
}

// --- syscalls --------------------------------------------------------------------------------

PlanSyscalls build_syscalls(const Config &config, const LoadedPlugin &plugin, const BuildContext &ctx,
                            std::vector<std::string> &warnings) {
    std::string profile = config.seccomp_profile.empty() ? "default" : config.seccomp_profile;
    json::object request{{"profile", profile}};
    if (profile != "default" && profile != "none") {
        fs::path file = expand_tilde(profile, ctx.home);
        request["path"] = (file.is_absolute() ? file : fs::path(ctx.cwd) / file).lexically_normal().string();
    }
    json::value result = plugin.call("syscall.prepare", plugin.syscall()->prepare, request);
    return read_answer(plugin, "syscall.prepare", result, [&](const JsonReader &r) {
        PlanSyscalls syscalls;
        syscalls.plugin = plugin.name();
        syscalls.mode = r.one_of("mode", {"default", "profile", "none"});
        const json::value *given = r.find("profile");
        if (syscalls.mode == "profile" && (!given || !given->is_object()))
            r.fail_at("profile", "expected a seccomp profile object in the engine JSON format (mode is \"profile\")");
        if (syscalls.mode != "profile" && given)
            r.fail_at("profile", "expected null (mode is \"" + syscalls.mode + "\")");
        if (given)
            syscalls.profile = *given;
        if (const json::value *engine = r.find("engine_profile")) {
            if (!engine->is_object())
                r.fail_at("engine_profile", "expected a seccomp profile object in the engine JSON format, or null");
            syscalls.engine_profile = *engine;
        }
        for (auto &w : bounded_strings(r, "warnings"))
            warnings.push_back(std::move(w));
        return syscalls;
    });
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

// Asks every mount guard, in load order; the first refusal wins and names its rule. The warnings
// of the guards that allow it go to `warnings`.
void judge_mount(const std::vector<const LoadedPlugin *> &guards, const MountSpec &spec, const std::string &origin,
                 const BuildContext &ctx, std::vector<std::string> &warnings) {
    json::object request{{"source", spec.source},       {"requested", spec.requested},
                         {"target", spec.target},       {"readonly", spec.readonly},
                         {"file_type", spec.file_type}, {"home", ctx.home},
                         {"origin", origin},            {"session_dir", ctx.session_dir}};
    for (const LoadedPlugin *guard : guards) {
        json::value answer = guard->call("mount.judge", guard->mount()->judge, request);
        struct Verdict {
            bool allowed;
            std::string rule, reason;
            std::vector<std::string> warnings;
        };
        Verdict verdict = read_answer(*guard, "mount.judge", answer, [](const JsonReader &r) {
            Verdict v{r.one_of("verdict", {"allow", "refuse"}) == "allow", "", "", {}};
            if (!v.allowed) {
                v.rule = nonempty_text(r, "rule", 256);
                v.reason = nonempty_text(r, "reason");
            } else {
                v.warnings = bounded_strings(r, "warnings");
            }
            return v;
        });
        if (verdict.allowed) {
            warnings.insert(warnings.end(), verdict.warnings.begin(), verdict.warnings.end());
            continue;
        }
        std::string what = origin == "project" ? "the project directory " + spec.source
                                               : "mount \"" + spec.requested + "\"";
        if (ctx.on_mount_refused)
            ctx.on_mount_refused(json::object{{"source", spec.requested.substr(0, spec.requested.find(':'))},
                                              {"spec", spec.requested},
                                              {"canonical", spec.source},
                                              {"target", spec.target},
                                              {"origin", origin},
                                              {"rule", verdict.rule},
                                              {"reason", verdict.reason}});
        throw UsageError(what + " refused by " + guard->name() + " (rule " + verdict.rule + "): " + verdict.reason);
    }
}

// What the host runs or trusts later outside the project, that no read-write mount may reach
// (project_mounts.hpp): the git dirs a gitfile `.git` names, rustyolo's config file, state
// directory (trust store, audit records), plugin directory, audit directory and runtime directory
// (session and control sockets). Only what exists.
std::vector<GuardedPath> guarded_host_paths(const Config &config, const BuildContext &ctx) {
    std::vector<GuardedPath> guarded;
    for (const auto &dir : outside_git_dirs(ctx.cwd))
        guarded.push_back({dir, "the git dir",
                           " that the project uses (its .git names it): git runs the project's hooks and reads its "
                           "configuration there"});
    if (!ctx.getenv_fn)
        return guarded;
    // "" where the environment names no such place (no HOME): then there is nothing there to guard.
    auto place = [](auto &&where) -> std::string {
        try {
            return where();
        } catch (const Error &) {
            return "";
        }
    };
    const std::pair<std::string, GuardedPath> own[] = {
        {place([&] { return user_config_path(ctx.getenv_fn); }),
         {"", "your rustyolo config file", ", which every session trusts"}},
        {place([&] { return state_dir(ctx.getenv_fn); }),
         {"", "rustyolo's state directory", " (the trust store of project configs and the audit records)"}},
        {place([&] { return user_plugin_dir(ctx.getenv_fn); }),
         {"", "your rustyolo plugin directory", ", whose plugins every run loads on the host"}},
        {config.audit_dir.empty() ? std::string() : expand_tilde(config.audit_dir, ctx.home),
         {"", "the audit directory", ", where the session's records go"}},
        {place([&] { return runtime_base_dir(ctx.getenv_fn); }),
         {"", "rustyolo's runtime directory",
          " (the sessions' sockets, and the control sockets that change a running session's policy)", true}},
    };
    for (const auto &[path, entry] : own) {
        std::error_code ec;
        if (path.empty() || path.front() != '/' || !fs::exists(path, ec))
            continue;
        GuardedPath guard = entry;
        guard.path = canonicalize_path(path);
        guarded.push_back(std::move(guard));
    }
    return guarded;
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
void protect_path(Plan &plan, const std::string &relative, const BuildContext &ctx, const AgentIds &owner,
                  std::string_view content = {}, const std::string &why = "") {
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
                                                 owner.owner_uid, owner.owner_gid);
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
                                                    " is executed or read by the host later" +
                                                    (why.empty() ? "" : " (" + why + ")") + note,
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


std::vector<const LoadedPlugin *> plugins_for(const PluginRegistry &registry, const PluginRole &role) {
    std::vector<const LoadedPlugin *> chosen;
    std::vector<std::string> implementers;  // every plugin with the hook, and what it serves
    for (const auto &p : registry.plugins()) {
        if (!implements(*p, role.hook))
            continue;
        bool match = role.plugin.empty() || p->name() == role.plugin;
        std::string shown = p->name();
        if (!role.serves.empty()) {
            const std::vector<std::string> names = served_names(*p, role.hook);
            match = match && std::find(names.begin(), names.end(), role.serves) != names.end();
            shown += " (" + (names.empty() ? std::string("serves none") : join(names)) + ")";
        }
        if (match)
            chosen.push_back(p.get());
        implementers.push_back(std::move(shown));
    }
    if (chosen.empty()) {
        std::string why;
        if (const LoadedPlugin *named = role.plugin.empty() ? nullptr : registry.find(role.plugin))
            why = "the plugin " + named->name() + " (" + named->path() + ") is loaded but has no " + role.hook +
                  " hook";
        else if (!role.plugin.empty())
            why = "it needs the plugin " + role.plugin + ", which is not loaded";
        else
            why = role.serves.empty() ? "no loaded plugin has the " + role.hook + " hook"
                                      : "none of the loaded plugins lists it in its " + role.hook + ".names";
        const std::string message = "no plugin serves the " + role.role + ": " + why + "; the plugins with the " +
                                    role.hook + " hook are: " +
                                    (implementers.empty() ? std::string("(none)") : join(implementers)) + "; " +
                                    role.remedy;
        if (role.user_selects)
            throw UsageError(message);
        throw Error(message);
    }
    if (role.ask == PluginRole::Ask::exactly_one && chosen.size() > 1) {
        std::vector<std::string> files;
        for (const LoadedPlugin *p : chosen)
            files.push_back(p->name() + " (" + p->path() + ")");
        throw UsageError("the " + role.role + " is served by " + std::to_string(chosen.size()) +
                         " plugins: " + join(files) + "; exactly one may serve it: remove the others from the "
                         "plugin directory or from the --plugin options");
    }
    return chosen;
}

const LoadedPlugin &find_agent_plugin(const PluginRegistry &registry, const std::string &agent) {
    return *plugins_for(registry, PluginRole{"agent \"" + agent + "\"", "agent", PluginRole::Ask::exactly_one, "",
                                             agent,
                                             "run one of the agents those serve, or load a third-party agent "
                                             "with --plugin FILE",
                                             true})
                .front();
}

std::string default_runtime(const PluginRegistry &registry) {
    for (const auto &p : registry.plugins())
        if (p->runtime())
            for (const auto &name : p->call_names("runtime.names", p->runtime()->names))
                return name;
    throw Error("no runtime plugin is loaded, so there is no runtime to start the sandbox with; reinstall "
                "rustyolo (its plugin directory holds the built-in runtime plugin) or pass --plugin with a runtime plugin");
}

const LoadedPlugin &find_runtime_plugin(const PluginRegistry &registry, const std::string &runtime) {
    return *plugins_for(registry, PluginRole{"runtime \"" + runtime + "\"", "runtime", PluginRole::Ask::exactly_one,
                                             "", runtime, "use --runtime with a name a runtime plugin serves (`rustyolo plugins` lists them), or leave it out for the default", true})
                .front();
}

std::vector<PlanEgress> normalize_live_entries(const PluginRegistry &registry, const PlanNetwork &network,
                                               const std::vector<std::string> &entries) {
    if (entries.empty())
        throw UsageError("name at least one entry (a name, name:port, *.suffix or CIDR)");
    const LoadedPlugin &firewall =
        *plugins_for(registry, PluginRole{"firewall plugin \"" + network.firewall + "\" of the session", "network",
                                          PluginRole::Ask::exactly_one, network.firewall, "",
                                          "the session's firewall plugin must be loaded in the rustyolo that "
                                          "started it",
                                          false})
             .front();
    // One entry at a time, so that a refusal names the value it is about.
    std::vector<PlanEgress> out;
    for (const std::string &entry : entries) {
        Normalized one;
        try {
            one = normalize(firewall, {entry}, network.allow_lan, {});
        } catch (const UsageError &e) {
            throw UsageError("\"" + entry + "\" is not an allow entry: " + e.what());
        }
        for (PlanEgress &egress : one.allow) {
            auto same = std::find_if(out.begin(), out.end(), [&](const PlanEgress &e) {
                return e.kind == egress.kind && e.value == egress.value && e.protocol == egress.protocol;
            });
            if (same == out.end()) {
                out.push_back(std::move(egress));
            } else {
                same->ports.insert(same->ports.end(), egress.ports.begin(), egress.ports.end());
                std::sort(same->ports.begin(), same->ports.end());
                same->ports.erase(std::unique(same->ports.begin(), same->ports.end()), same->ports.end());
            }
        }
    }
    return out;
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

std::vector<AgentProtected> agents_protected_paths(const PluginRegistry &registry, const AgentProfile &running) {
    std::vector<AgentProtected> out;
    auto add = [&](const AgentProfile &profile) {
        for (const auto &[path, reason] : profile.protect) {
            const std::string why = "agent " + profile.agent + " (plugin " + profile.plugin + ")" +
                                    (reason.empty() ? "" : ": " + reason);
            auto same = std::find_if(out.begin(), out.end(), [&](const AgentProtected &p) { return p.path == path; });
            if (same == out.end())
                out.push_back(AgentProtected{path, why});
            else
                same->why += "; " + why;
        }
    };
    if (!running.agent.empty())
        add(running);
    for (const auto &p : registry.plugins()) {
        if (!p->agent())
            continue;
        for (const auto &name : p->call_names("agent.names", p->agent()->names))
            if (!(name == running.agent && p->name() == running.plugin))
                add(agent_manifest_of(*p, name));
    }
    return out;
}

Plan build_plan(const Config &config, const PluginRegistry &registry, const BuildContext &ctx) {
    Plan plan;
    plan.session = ctx.session;
    plan.image = config.image;
    plan.runtime = config.runtime.empty() ? default_runtime(registry) : config.runtime;
    plan.project = ctx.cwd;
    find_runtime_plugin(registry, plan.runtime);  // fails early on an unknown runtime

    if (config.audit_log != "none" && config.audit_log != "basic" && config.audit_log != "verbose")
        throw UsageError("--audit-log \"" + config.audit_log +
                         "\": not a level; use none, basic (blocked actions, the default) or verbose "
                         "(allowed ones too)");
    plan.audit.level = config.audit_log;

    // The agent's ids (never root): the caller's; run as root, the project owner's, or for a
    // root-owned project an ordinary uid that writes through an idmapped clone (core/host/idmap.hpp).
    struct stat project_stat {};
    if (ctx.uid == 0 && ::stat(ctx.cwd.c_str(), &project_stat) != 0)
        throw Error("cannot read the owner of the project " + ctx.cwd + ": " + std::strerror(errno));
    const AgentIds ids = choose_agent_ids(ctx.uid, ctx.gid, project_stat, ctx.getenv_fn);
    plan.user.uid = ids.uid;
    plan.user.gid = ids.gid;
    if (!ids.note.empty())
        plan.warnings.push_back(ids.note);

    // Agent.
    const LoadedPlugin &agent_plugin = find_agent_plugin(registry, ctx.agent);
    AgentProfile agent = agent_profile(agent_plugin, config, ctx);
    plan.agent = PlanAgent{ctx.agent, agent.plugin, agent.argv};

    // The plugins of the other roles (the dispatch rule in plan_builder.hpp).
    const std::string missing_builtin = " is missing from " + builtin_plugin_dir() + ": reinstall rustyolo";
    const LoadedPlugin &firewall =
        *plugins_for(registry, PluginRole{"firewall \"" + config.firewall + "\"", "network",
                                          PluginRole::Ask::exactly_one, "net-" + config.firewall, "",
                                          "use --firewall nftables (the default) or iptables", true})
             .front();
    const LoadedPlugin &resource_policy =
        *plugins_for(registry, PluginRole{"resource policy", "resource", PluginRole::Ask::exactly_one, "", "",
                                          "the built-in resources plugin" + missing_builtin, false})
             .front();
    const LoadedPlugin &syscall_policy =
        *plugins_for(registry, PluginRole{"syscall policy", "syscall", PluginRole::Ask::exactly_one, "seccomp", "",
                                          "the built-in seccomp plugin" + missing_builtin, false})
             .front();
    const std::vector<const LoadedPlugin *> mount_guards = plugins_for(
        registry, PluginRole{"mount guard", "mount", PluginRole::Ask::every, "", "",
                             "the built-in mount-guard plugin" + missing_builtin +
                                 " (rustyolo mounts nothing unguarded)",
                             false});

    plan.network = build_network(config, firewall, agent, plan.warnings);
    plan.resources = build_resources(config, resource_policy, plan.warnings);
    plan.syscalls = build_syscalls(config, syscall_policy, ctx, plan.warnings);

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
    judge_mount(mount_guards, project, "project", ctx, plan.warnings);
    plan.mounts.push_back(PlanMount{project.source, plan.workdir, false, "project", "the project", false,
                                    source_identity(project.source)});
    std::vector<std::string> protected_paths;
    const std::vector<GitProtected> git_paths = git_protected_paths(ctx.cwd);
    for (const auto &git : git_paths)
        protected_paths.push_back(git.relative);
    protected_paths.insert(protected_paths.end(), default_protected_paths().begin(), default_protected_paths().end());
    // Every installed agent's paths, whichever agent runs (the user may run any of them later).
    const std::vector<AgentProtected> agent_paths = agents_protected_paths(registry, agent);
    for (const auto &path : agent_paths)
        protected_paths.push_back(path.path);
    const ProjectMounts project_mounts(project.source, plan.workdir, protected_paths, guarded_host_paths(config, ctx));
    // Nothing else may reach the protected paths read-write or take their place in the container.
    auto check_other_mount = [&](const MountSpec &spec, const std::string &what) {
        project_mounts.check_target(spec, what);
        if (spec.target == plan.user.home || has_mount_target(plan, spec.target))
            throw UsageError(what + ": the container path " + text::quoted(spec.target) + " is already " +
                             (spec.target == plan.user.home ? "the agent's private home" : "taken by another mount") +
                             "; choose another container path");
        project_mounts.check_source(spec, what);
    };
    for (const auto &volume : config.volumes) {
        MountSpec spec = parse_mount_spec(volume, ctx.home, ctx.cwd);
        judge_mount(mount_guards, spec, "volume", ctx, plan.warnings);
        check_other_mount(spec, "volume " + text::quoted(spec.requested));
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
            judge_mount(mount_guards, spec, "auth", ctx, plan.warnings);
            check_other_mount(spec, "the " + ctx.agent + " state directory " + spec.source + " (--auth-home)");
            plan.mounts.push_back(PlanMount{spec.source, target, false, "auth",
                                            "persistent " + ctx.agent + " state under --auth-home", false,
                                            source_identity(spec.source)});
        }
    }
    for (const auto &git : git_paths)
        protect_path(plan, git.relative, ctx, ids, git.content);
    for (const auto &path : default_protected_paths())
        protect_path(plan, path, ctx, ids);
    for (const auto &path : agent_paths)
        protect_path(plan, path.path, ctx, ids, {}, path.why);

    plan.container_plugins = {plan.network.firewall, plan.syscalls.plugin};
    return plan;
}

}  // namespace rustyolo
