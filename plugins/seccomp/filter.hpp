// A seccomp filter under construction: an owning wrapper around libseccomp's scmp_filter_ctx that
// covers every ABI of the machine and reports failures the way crun does, naming the syscall
// (`seccomp_rule_add 'ptrace': Invalid argument`).
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::seccomp {

enum class LogLevel { debug, info, warn };
using Log = std::function<void(LogLevel, const std::string &)>;

// The ABIs a process of this machine can enter the kernel through: the native one first, then the
// compat ones (x86_64: x86 and x32; aarch64: arm). A filter that leaves one out kills every
// syscall made through it (libseccomp's bad-arch action), so every filter covers all of them.
std::vector<std::uint32_t> machine_arches();

// "x86_64", "x86", "x32", "aarch64", "arm", ... (libseccomp's token when unknown).
std::string arch_name(std::uint32_t arch);

// seccomp_load failed; code() is the kernel's errno (EBUSY for a filter with notifications when
// one of the process's filters already has a listener).
class LoadError : public std::runtime_error {
public:
    LoadError(const std::string &what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

class Filter {
public:
    // One add_rule call as given, kept so that a variant of the filter can be derived from it
    // (notify.hpp: the same policy with its denials reported).
    struct Rule {
        std::uint32_t action;
        std::string name;
        std::vector<scmp_arg_cmp> conditions;
        std::string label;  // the rule's name in audit records, e.g. "default: always denied"
    };

    // A filter whose action for syscalls no rule matches is `default_action`, covering `arches`
    // (the first must be the native one, as seccomp_init adds it).
    Filter(std::uint32_t default_action, const std::vector<std::uint32_t> &arches);
    ~Filter();
    Filter(Filter &&other) noexcept;
    Filter &operator=(Filter &&other) noexcept;
    Filter(const Filter &) = delete;
    Filter &operator=(const Filter &) = delete;

    std::uint32_t default_action() const { return default_action_; }
    const std::vector<std::uint32_t> &arches() const { return arches_; }

    // True when libseccomp knows the syscall by that name (on any architecture).
    static bool known(std::string_view name);
    // True when at least one ABI of this filter has the syscall.
    bool on_some_arch(std::string_view name) const;

    // Adds a rule: `action` when syscall `name` is made with arguments matching every condition.
    // On ABIs without that syscall nothing is added. Throws std::runtime_error naming the
    // syscall when libseccomp refuses the rule or does not know the name. `label` names the rule
    // in audit records.
    void add_rule(std::uint32_t action, std::string_view name,
                  const std::vector<scmp_arg_cmp> &conditions = {}, std::string label = {});
    // Rules added so far (one per add_rule call, whatever the number of ABIs).
    std::size_t rules() const { return rules_; }
    // The rules as added, in order.
    const std::vector<Rule> &rule_list() const { return rule_list_; }

    // The name of the default action in audit records ("default action" unless set).
    const std::string &default_label() const { return default_label_; }
    void set_default_label(std::string label) { default_label_ = std::move(label); }

    // The filter as libseccomp's pseudo filter code (text), for tests and debugging.
    std::string export_pfc() const;
    // Loads the filter into the calling thread (no_new_privs must already be set, or the caller
    // must have CAP_SYS_ADMIN). Throws LoadError with the kernel's reason.
    void load() const;
    // After load() of a filter with SCMP_ACT_NOTIFY actions: the listener fd the kernel returned
    // (owned by the caller from then on), or -1.
    int notify_fd() const;

private:
    scmp_filter_ctx ctx_ = nullptr;
    std::uint32_t default_action_ = 0;
    std::vector<std::uint32_t> arches_;
    std::size_t rules_ = 0;
    std::vector<Rule> rule_list_;
    std::string default_label_ = "default action";
};

// One argument comparison (libseccomp's SCMP_A0()... macros are C compound literals, not C++).
// For SCMP_CMP_MASKED_EQ, `a` is the mask and `b` the value: (arg & a) == b.
inline scmp_arg_cmp condition(unsigned arg, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
    return scmp_arg_cmp{arg, op, a, b};
}

// "SCMP_ACT_ERRNO(1)"-style text of an action, for logs.
std::string action_name(std::uint32_t action);

}  // namespace rustyolo::seccomp
