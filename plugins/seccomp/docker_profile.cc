#include "plugins/seccomp/docker_profile.hpp"

#include "plugins/seccomp/profile.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <stdexcept>

namespace rustyolo::seccomp {

namespace json = boost::json;

namespace {

[[noreturn]] void bad(const std::string &path, const std::string &what) {
    throw std::invalid_argument("seccomp profile: " + path + ": " + what);
}

std::uint64_t unsigned_field(const json::object &object, std::string_view key, const std::string &path,
                             std::uint64_t fallback) {
    const json::value *v = object.if_contains(key);
    if (!v || v->is_null())
        return fallback;
    if (v->is_uint64())
        return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0)
        return static_cast<std::uint64_t>(v->as_int64());
    bad(path + "/" + std::string(key), "expected an unsigned integer");
}

std::vector<std::string> string_list(const json::object &object, std::string_view key,
                                     const std::string &path) {
    std::vector<std::string> out;
    const json::value *v = object.if_contains(key);
    if (!v || v->is_null())
        return out;
    if (!v->is_array())
        bad(path + "/" + std::string(key), "expected an array of strings");
    for (const auto &item : v->as_array()) {
        if (!item.is_string())
            bad(path + "/" + std::string(key), "expected an array of strings");
        out.emplace_back(item.as_string());
    }
    return out;
}

std::uint32_t action_of(std::string_view name, std::uint64_t errno_ret, const std::string &path) {
    if (errno_ret > 0xffff)
        bad(path, "errnoRet " + std::to_string(errno_ret) + " is out of range");
    const auto ret = static_cast<std::uint16_t>(errno_ret);
    if (name == "SCMP_ACT_ALLOW")
        return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_ERRNO")
        return SCMP_ACT_ERRNO(ret);
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD")
        return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS")
        return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP")
        return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_TRACE")
        return SCMP_ACT_TRACE(ret);
    if (name == "SCMP_ACT_LOG")
        return SCMP_ACT_LOG;
    bad(path, "unknown action " + std::string(name));
}

scmp_compare compare_of(std::string_view op, const std::string &path) {
    if (op == "SCMP_CMP_NE")
        return SCMP_CMP_NE;
    if (op == "SCMP_CMP_LT")
        return SCMP_CMP_LT;
    if (op == "SCMP_CMP_LE")
        return SCMP_CMP_LE;
    if (op == "SCMP_CMP_EQ")
        return SCMP_CMP_EQ;
    if (op == "SCMP_CMP_GE")
        return SCMP_CMP_GE;
    if (op == "SCMP_CMP_GT")
        return SCMP_CMP_GT;
    if (op == "SCMP_CMP_MASKED_EQ")
        return SCMP_CMP_MASKED_EQ;
    bad(path, "unknown comparison " + std::string(op));
}

// Docker's and libseccomp's names for the ABIs.
std::optional<std::uint32_t> arch_token(std::string_view name) {
    static const std::array<std::pair<std::string_view, std::uint32_t>, 11> table{{
        {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
        {"SCMP_ARCH_X86", SCMP_ARCH_X86},
        {"SCMP_ARCH_X32", SCMP_ARCH_X32},
        {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
        {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
        {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
        {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
        {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
        {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
        {"SCMP_ARCH_S390", SCMP_ARCH_S390},
        {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
    }};
    for (const auto &[text, token] : table)
        if (name == text)
            return token;
    return std::nullopt;
}

// Names a profile's includes/excludes "arches" use for the native ABI (Go's GOARCH, as in
// Docker's own profile, plus the kernel's).
std::vector<std::string_view> native_arch_names(std::uint32_t native) {
    switch (native) {
    case SCMP_ARCH_X86_64: return {"amd64", "x86_64"};
    case SCMP_ARCH_X86: return {"386", "x86", "i386"};
    case SCMP_ARCH_X32: return {"x32"};
    case SCMP_ARCH_AARCH64: return {"arm64", "aarch64"};
    case SCMP_ARCH_ARM: return {"arm"};
    case SCMP_ARCH_PPC64LE: return {"ppc64le"};
    case SCMP_ARCH_S390X: return {"s390x"};
    case SCMP_ARCH_RISCV64: return {"riscv64"};
    default: return {};
    }
}

// The ABIs of `machine` (native first) that the profile lists; all of them when it lists none.
std::vector<std::uint32_t> profile_arches(const json::object &profile,
                                          const std::vector<std::uint32_t> &machine) {
    std::vector<std::uint32_t> listed;
    if (const json::value *map = profile.if_contains("archMap"); map && map->is_array()) {
        for (const auto &entry : map->as_array()) {
            if (!entry.is_object())
                continue;
            const auto subs = string_list(entry.as_object(), "subArchitectures", "/archMap");
            const json::value *arch = entry.as_object().if_contains("architecture");
            auto token = arch && arch->is_string() ? arch_token(arch->as_string()) : std::nullopt;
            if (!token || *token != machine.front())
                continue;
            listed.push_back(*token);
            for (const auto &sub : subs)
                if (auto t = arch_token(sub))
                    listed.push_back(*t);
        }
    } else {
        for (const auto &name : string_list(profile, "architectures", ""))
            if (auto t = arch_token(name))
                listed.push_back(*t);
    }
    if (listed.empty())
        return machine;
    std::vector<std::uint32_t> out;
    for (std::uint32_t arch : machine)
        if (std::find(listed.begin(), listed.end(), arch) != listed.end())
            out.push_back(arch);
    // The native ABI is always filtered: a profile cannot switch the filter off by omitting it.
    if (out.empty() || out.front() != machine.front())
        out.insert(out.begin(), machine.front());
    return out;
}

// "5.8" <= "6.1.0-13-amd64"?
bool kernel_at_least(const std::string &release, const std::string &minimum) {
    unsigned have_major = 0, have_minor = 0, want_major = 0, want_minor = 0;
    if (std::sscanf(minimum.c_str(), "%u.%u", &want_major, &want_minor) < 1)
        return true;
    if (std::sscanf(release.c_str(), "%u.%u", &have_major, &have_minor) < 1)
        return true;
    return have_major != want_major ? have_major > want_major : have_minor >= want_minor;
}

std::string this_kernel() {
    struct utsname u {};
    return ::uname(&u) == 0 ? u.release : "";
}

// Whether a rule applies here, following Docker's includes/excludes. The agent holds no
// capability, so a rule that needs one never applies and one excluded by one always does.
bool applies(const json::object &rule, const std::string &path, const ProfileTarget &target,
             const std::string &kernel, std::string &why_not) {
    const std::vector<std::string_view> names = native_arch_names(target.arches.front());
    auto lists_native = [&](const std::vector<std::string> &arches) {
        return std::any_of(arches.begin(), arches.end(), [&](const std::string &a) {
            return std::find(names.begin(), names.end(), a) != names.end();
        });
    };
    if (const json::value *ex = rule.if_contains("excludes"); ex && ex->is_object()) {
        const auto &e = ex->as_object();
        if (lists_native(string_list(e, "arches", path + "/excludes"))) {
            why_not = "excluded on this architecture";
            return false;
        }
        if (const json::value *k = e.if_contains("minKernel");
            k && k->is_string() && kernel_at_least(kernel, std::string(k->as_string()))) {
            why_not = "excluded from kernel " + std::string(k->as_string());
            return false;
        }
    }
    if (const json::value *in = rule.if_contains("includes"); in && in->is_object()) {
        const auto &i = in->as_object();
        const auto arches = string_list(i, "arches", path + "/includes");
        if (!arches.empty() && !lists_native(arches)) {
            why_not = "only for other architectures";
            return false;
        }
        if (!string_list(i, "caps", path + "/includes").empty()) {
            why_not = "only for processes with capabilities (the agent has none)";
            return false;
        }
        if (const json::value *k = i.if_contains("minKernel");
            k && k->is_string() && !kernel_at_least(kernel, std::string(k->as_string()))) {
            why_not = "only from kernel " + std::string(k->as_string());
            return false;
        }
    }
    return true;
}

// The rule's conditions, grouped as runc does: one set of ANDed conditions when every argument
// index appears once; otherwise each condition alone (ORed).
std::vector<std::vector<scmp_arg_cmp>> condition_sets(const json::object &rule, const std::string &path) {
    std::vector<scmp_arg_cmp> all;
    const json::value *args = rule.if_contains("args");
    if (args && !args->is_null()) {
        if (!args->is_array())
            bad(path + "/args", "expected an array");
        std::size_t n = 0;
        for (const auto &arg : args->as_array()) {
            const std::string at = path + "/args/" + std::to_string(n++);
            if (!arg.is_object())
                bad(at, "expected an object");
            const auto &a = arg.as_object();
            const std::uint64_t index = unsigned_field(a, "index", at, 99);
            if (index > 5)
                bad(at + "/index", "expected an argument index 0-5");
            const json::value *op = a.if_contains("op");
            if (!op || !op->is_string())
                bad(at + "/op", "expected an SCMP_CMP_* comparison");
            all.push_back(condition(static_cast<unsigned>(index), compare_of(op->as_string(), at + "/op"),
                                    unsigned_field(a, "value", at, 0), unsigned_field(a, "valueTwo", at, 0)));
        }
    }
    std::array<int, 6> per_index{};
    for (const auto &c : all)
        ++per_index[c.arg];
    if (std::all_of(per_index.begin(), per_index.end(), [](int n) { return n <= 1; }))
        return {all};
    std::vector<std::vector<scmp_arg_cmp>> sets;
    for (const auto &c : all)
        sets.push_back({c});
    return sets;
}

}  // namespace

Filter profile_filter(const json::value &profile, const Log &log, const ProfileTarget &target) {
    validate_docker_profile(profile, "(from the Plan)");
    const json::object &p = profile.as_object();
    const std::string kernel = target.kernel_release.empty() ? this_kernel() : target.kernel_release;
    auto debug = [&](const std::string &message) {
        if (log)
            log(LogLevel::debug, message);
    };

    const std::uint32_t default_action = action_of(
        p.at("defaultAction").as_string(), unsigned_field(p, "defaultErrnoRet", "", EPERM), "/defaultAction");
    Filter filter(default_action, profile_arches(p, target.arches));
    filter.set_default_label("profile /defaultAction");

    const json::value *syscalls = p.if_contains("syscalls");
    if (!syscalls || syscalls->is_null())
        return filter;
    std::size_t index = 0;
    for (const auto &item : syscalls->as_array()) {
        const std::string path = "/syscalls/" + std::to_string(index++);
        const json::object &rule = item.as_object();
        std::vector<std::string> names = string_list(rule, "names", path);
        if (const json::value *name = rule.if_contains("name"); name && name->is_string())
            names.emplace_back(name->as_string());
        std::string why_not;
        if (!applies(rule, path, target, kernel, why_not)) {
            debug("seccomp profile " + path + " skipped: " + why_not);
            continue;
        }
        const std::uint32_t action = action_of(
            rule.at("action").as_string(), unsigned_field(rule, "errnoRet", path, EPERM), path + "/action");
        if (action == default_action) {
            debug("seccomp profile " + path + " skipped: its action is the default action");
            continue;
        }
        const auto sets = condition_sets(rule, path);
        for (const auto &name : names) {
            if (!Filter::known(name)) {
                debug("seccomp profile " + path + ": syscall '" + name +
                      "' is unknown to libseccomp; skipped");
                continue;
            }
            if (!filter.on_some_arch(name)) {
                debug("seccomp profile " + path + ": syscall '" + name +
                      "' does not exist on this machine; skipped");
                continue;
            }
            for (const auto &conditions : sets)
                filter.add_rule(action, name, conditions, "profile " + path);
        }
    }
    return filter;
}

}  // namespace rustyolo::seccomp
