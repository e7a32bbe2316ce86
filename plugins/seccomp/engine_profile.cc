#include "plugins/seccomp/engine_profile.hpp"

#include "plugins/seccomp/notify.hpp"
#include "plugins/seccomp/policy.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace rustyolo::seccomp {

namespace json = boost::json;

namespace {

// Highest syscall number looked up per ABI (x86_64 and x86 end below 500 today, x32 below 550).
constexpr int kMaxSyscallNr = 1024;
// x32 numbers carry this bit (and only x32 numbers do).
constexpr int kX32SyscallBit = 0x40000000;

std::set<std::string> names_on(const std::vector<std::uint32_t> &arches) {
    std::set<std::string> out;
    for (auto arch : arches) {
        const int base = arch == SCMP_ARCH_X32 ? kX32SyscallBit : 0;
        for (int nr = 0; nr < kMaxSyscallNr; ++nr)
            if (char *name = seccomp_syscall_resolve_num_arch(arch, base + nr)) {
                out.insert(name);
                std::free(name);
            }
    }
    return out;
}

bool allowing(const json::value &action) {
    return action.is_string() && (action.as_string() == "SCMP_ACT_ALLOW" || action.as_string() == "SCMP_ACT_LOG");
}

std::string docker_default_missing(const std::string &path) {
    return "the engine keeps its own seccomp profile: " + path + " is missing (install the Debian package " +
           std::string(kDockerDefaultProfilePackage) +
           "); syscalls the engine's profile denies (mount, keyctl, clone3, unshare, bpf, ...) are then refused "
           "but not recorded in the audit";
}

}  // namespace

std::vector<std::string> notified_syscalls(const Filter &reporting, const std::vector<std::string> &candidates) {
    const bool default_notifies = reporting.default_action() == SCMP_ACT_NOTIFY;
    std::set<std::string> notified, unconditional;
    for (const auto &rule : reporting.rule_list()) {
        if (rule.action == SCMP_ACT_NOTIFY)
            notified.insert(rule.name);
        else if (rule.conditions.empty())
            unconditional.insert(rule.name);
    }
    if (default_notifies) {
        std::set<std::string> universe = names_on(reporting.arches());
        universe.insert(candidates.begin(), candidates.end());
        for (const auto &name : universe)
            if (!unconditional.count(name) && reporting.on_some_arch(name))
                notified.insert(name);
    }
    return {notified.begin(), notified.end()};
}

json::value engine_profile_with(json::value base, const std::vector<std::string> &names) {
    auto *syscalls = base.is_object() ? base.as_object().if_contains("syscalls") : nullptr;
    if (!syscalls || !syscalls->is_array())
        throw std::invalid_argument("the engine's base seccomp profile has no \"syscalls\" array");
    const std::set<std::string> allowed(names.begin(), names.end());
    json::array rules;
    for (auto &rule : syscalls->as_array()) {
        if (!rule.is_object() || allowing(rule.as_object()["action"])) {
            rules.push_back(std::move(rule));
            continue;
        }
        auto &r = rule.as_object();
        if (auto *single = r.if_contains("name"); single && single->is_string() &&
                                                  allowed.count(std::string(single->as_string())))
            r.erase("name");
        if (auto *list = r.if_contains("names"); list && list->is_array()) {
            json::array kept;
            for (auto &n : list->as_array())
                if (!n.is_string() || !allowed.count(std::string(n.as_string())))
                    kept.push_back(std::move(n));
            if (kept.empty())
                r.erase("names");
            else
                *list = std::move(kept);
        }
        if (r.contains("names") || r.contains("name"))
            rules.push_back(std::move(rule));
    }
    json::array list;
    for (const auto &name : allowed)
        list.emplace_back(name);
    rules.push_back(json::object{{"names", std::move(list)}, {"action", "SCMP_ACT_ALLOW"}, {"comment", kEngineAllowComment}});
    *syscalls = std::move(rules);
    return base;
}

json::value engine_profile(const json::object &syscalls, const std::string &docker_default_path,
                           std::vector<std::string> &warnings) {
    const auto *mode = syscalls.if_contains("mode");
    if (mode && mode->is_string() && mode->as_string() == "none")
        return nullptr;
    std::optional<Filter> policy = policy_filter(syscalls, Log{});
    if (!policy)
        return nullptr;
    ReportingFilter reporting = reporting_filter(*policy);
    if (!reporting.filter)
        return nullptr;  // nothing is reported: the engine's denials lose no record

    std::ifstream in(docker_default_path);
    if (!in) {
        warnings.push_back(docker_default_missing(docker_default_path));
        return nullptr;
    }
    std::stringstream text;
    text << in.rdbuf();
    json::error_code ec;
    json::value base = json::parse(text.str(), ec);
    const json::value *rules = !ec && base.is_object() ? base.as_object().if_contains("syscalls") : nullptr;
    if (!rules || !rules->is_array()) {
        warnings.push_back("the engine keeps its own seccomp profile: " + docker_default_path +
                           " is not Docker's seccomp profile (" +
                           (ec ? ec.message() : std::string("no \"syscalls\" array")) +
                           "; reinstall the Debian package " + kDockerDefaultProfilePackage +
                           "); syscalls the engine's profile denies are then refused but not recorded in the audit");
        return nullptr;
    }
    std::vector<std::string> candidates;
    for (const auto &rule : rules->as_array())
        if (rule.is_object())
            if (const auto *names = rule.as_object().if_contains("names"); names && names->is_array())
                for (const auto &n : names->as_array())
                    if (n.is_string())
                        candidates.emplace_back(n.as_string());
    return engine_profile_with(std::move(base), notified_syscalls(*reporting.filter, candidates));
}

}  // namespace rustyolo::seccomp
