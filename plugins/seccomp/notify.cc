#include "plugins/seccomp/notify.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace rustyolo::seccomp {

namespace json = boost::json;

namespace {

// The kernel caps SECCOMP_RET_ERRNO data at MAX_ERRNO; the supervisor answers what the caller
// would have got.
constexpr int kMaxErrno = 4095;

bool is_errno(std::uint32_t action) { return (action & 0xffff0000u) == SCMP_ACT_ERRNO(0); }
int errno_of(std::uint32_t action) { return std::min(static_cast<int>(action & 0xffffu), kMaxErrno); }
bool lets_through(std::uint32_t action) { return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG; }

// On i386 (and other ABIs with multiplexers) libseccomp also applies a rule on `connect` to
// socketcall(SYS_CONNECT, ...), and one on `semop` to ipc(SEMOP, ...). Names that share a
// multiplexer must agree on their errno for a notification to tell them apart reliably.
const std::vector<std::vector<std::string_view>> &multiplexed_families() {
    static const std::vector<std::vector<std::string_view>> families{
        {"socketcall", "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername",
         "socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg",
         "recvmsg", "accept4", "recvmmsg", "sendmmsg"},
        {"ipc", "semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat", "shmdt",
         "shmget", "shmctl"},
    };
    return families;
}

bool multiplexed(const std::string &name) {
    for (const auto &family : multiplexed_families())
        if (std::find(family.begin(), family.end(), name) != family.end())
            return true;
    return false;
}

using Rules = std::vector<const Filter::Rule *>;

// True when a call of `name` on any ABI surely gets through: no rule for it could deny it, and
// either the default lets it through or an unconditional rule does.
bool surely_allowed(const std::string &name, const std::map<std::string, Rules> &by_name,
                    std::uint32_t default_action) {
    auto it = by_name.find(name);
    if (it == by_name.end())
        return lets_through(default_action);
    const Rules &rules = it->second;
    if (!std::all_of(rules.begin(), rules.end(), [](const Filter::Rule *r) { return lets_through(r->action); }))
        return false;
    return lets_through(default_action) ||
           std::any_of(rules.begin(), rules.end(), [](const Filter::Rule *r) { return r->conditions.empty(); });
}

// "a" when every rule has the same label, "a, b" otherwise.
std::string labels_of(const Rules &rules) {
    std::vector<std::string> labels;
    for (const auto *rule : rules)
        if (!rule->label.empty() && std::find(labels.begin(), labels.end(), rule->label) == labels.end())
            labels.push_back(rule->label);
    std::string out;
    for (const auto &label : labels)
        out += (out.empty() ? "" : ", ") + label;
    return out.empty() ? "rule" : out;
}

json::object entry(int error, std::string rule) { return {{"errno", error}, {"rule", std::move(rule)}}; }

}  // namespace

const std::vector<std::string_view> &handover_syscalls() {
    // The plugin's return (malloc: brk, mmap, munmap, mremap, madvise), sendmsg with the fd,
    // close, and on failure the error message and exit (write, exit_group).
    static const std::vector<std::string_view> names{"brk",     "mmap",  "munmap", "mremap",    "madvise",
                                                     "sendmsg", "close", "write",  "exit_group"};
    return names;
}

ReportingFilter reporting_filter(const Filter &policy) {
    ReportingFilter out;
    const std::uint32_t default_action = policy.default_action();
    const bool default_errno = is_errno(default_action);

    std::map<std::string, Rules> by_name;
    for (const auto &rule : policy.rule_list())
        by_name[rule.name].push_back(&rule);

    bool any_errno = default_errno;
    for (const auto &rule : policy.rule_list())
        any_errno = any_errno || is_errno(rule.action);
    if (!any_errno)
        return out;  // nothing the policy denies with an errno: nothing to report

    for (std::string_view name : handover_syscalls())
        if (!surely_allowed(std::string(name), by_name, default_action)) {
            out.warning = "syscall denials are not audited: the policy may deny " + std::string(name) +
                          ", which the entrypoint needs to hand the filter's notifications to the supervisor";
            return out;
        }

    // Per syscall: its ERRNO rules become NOTIFY (`notified`), are left out because the NOTIFY
    // default then gives the same answer (`dropped`), or stay plain ERRNO (`silent`).
    std::set<std::string> notified, dropped, silent;
    json::object syscalls;
    for (const auto &[name, rules] : by_name) {
        Rules errno_rules;
        std::set<int> errnos;
        bool unconditional = false;
        for (const auto *rule : rules)
            if (is_errno(rule->action)) {
                errno_rules.push_back(rule);
                errnos.insert(errno_of(rule->action));
                unconditional = unconditional || rule->conditions.empty();
            }
        if (errno_rules.empty())
            continue;
        // clone3 is refused with ENOSYS so that libc falls back to clone (whose namespace flags
        // the filter can inspect): glibc tries it for every new thread and process, so a record
        // for it would report nothing but normal work. It stays a plain ERRNO rule.
        if (name == "clone3") {
            silent.insert(name);
            continue;
        }
        if (!default_errno) {
            // Only these rules can notify for this syscall: one errno is unambiguous.
            if (errnos.size() == 1) {
                notified.insert(name);
                syscalls[name] = entry(*errnos.begin(), labels_of(errno_rules));
            } else {
                silent.insert(name);
            }
            continue;
        }
        // Default ERRNO (becoming NOTIFY): one NOTIFY action exists, so a syscall's own errno can be
        // told apart only when every call of it gets that errno: unconditional ERRNO rules alone.
        // Then the rules are left out and the default's notification stands for them. Never for a
        // multiplexed call: the multiplexer's own rules would then decide.
        if (errnos.size() == 1 && unconditional && errno_rules.size() == rules.size() && !multiplexed(name)) {
            dropped.insert(name);
            syscalls[name] = entry(*errnos.begin(), labels_of(errno_rules));
        } else {
            silent.insert(name);
        }
    }
    // Names that share a multiplexer: notified ones must agree on the errno.
    for (const auto &family : multiplexed_families()) {
        std::set<int> errnos;
        for (std::string_view member : family)
            if (notified.count(std::string(member)))
                errnos.insert(static_cast<int>(syscalls.at(member).as_object().at("errno").as_int64()));
        if (errnos.size() <= 1)
            continue;
        for (std::string_view member : family)
            if (notified.erase(std::string(member))) {
                syscalls.erase(member);
                silent.insert(std::string(member));
            }
    }
    if (!default_errno && notified.empty()) {
        out.silent.assign(silent.begin(), silent.end());
        out.warning = "syscall denials are not audited: every syscall the policy denies with an errno has "
                      "rules with several errnos (" + std::to_string(silent.size()) + " syscalls)";
        return out;
    }

    try {
        Filter reporting(default_errno ? SCMP_ACT_NOTIFY : default_action, policy.arches());
        reporting.set_default_label(policy.default_label());
        for (const auto &rule : policy.rule_list()) {
            if (dropped.count(rule.name))
                continue;
            const bool notify = notified.count(rule.name) && is_errno(rule.action);
            reporting.add_rule(notify ? SCMP_ACT_NOTIFY : rule.action, rule.name, rule.conditions, rule.label);
        }
        out.filter = std::move(reporting);
    } catch (const std::exception &e) {
        out.warning = std::string("syscall denials are not audited: libseccomp cannot build a filter with user "
                                  "notification here (") + e.what() + ")";
        return out;
    }
    out.errnos = {{"default", default_errno ? json::value(entry(errno_of(default_action), policy.default_label()))
                                            : json::value(nullptr)},
                  {"syscalls", std::move(syscalls)}};
    out.silent.assign(silent.begin(), silent.end());
    return out;
}

}  // namespace rustyolo::seccomp
