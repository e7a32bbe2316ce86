#include "plugins/seccomp/filter.hpp"

#include <rustyolo/sdk/seccomp_arch.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rustyolo::seccomp {

namespace {

// libseccomp returns -errno; with SCMP_FLTATR_API_SYSRAWRC the kernel's own errno comes through.
[[noreturn]] void fail(const std::string &what, int rc) {
    throw std::runtime_error(what + ": " + std::strerror(rc < 0 ? -rc : rc));
}

}  // namespace

std::vector<std::uint32_t> machine_arches() {
    const std::uint32_t native = seccomp_arch_native();
    switch (native) {
    case SCMP_ARCH_X86_64: return {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
    case SCMP_ARCH_X32: return {SCMP_ARCH_X32, SCMP_ARCH_X86_64, SCMP_ARCH_X86};
    case SCMP_ARCH_AARCH64: return {SCMP_ARCH_AARCH64, SCMP_ARCH_ARM};
    case SCMP_ARCH_PPC64: return {SCMP_ARCH_PPC64, SCMP_ARCH_PPC};
    case SCMP_ARCH_S390X: return {SCMP_ARCH_S390X, SCMP_ARCH_S390};
    case SCMP_ARCH_MIPS64: return {SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPS};
    case SCMP_ARCH_MIPSEL64: return {SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_MIPSEL};
    default: return {native};
    }
}

std::string arch_name(std::uint32_t arch) { return seccomp_arch_name(arch); }

std::string action_name(std::uint32_t action) {
    switch (action & 0xffff0000u) {
    case SCMP_ACT_ALLOW: return "SCMP_ACT_ALLOW";
    case SCMP_ACT_LOG: return "SCMP_ACT_LOG";
    case SCMP_ACT_KILL_PROCESS: return "SCMP_ACT_KILL_PROCESS";
    case SCMP_ACT_KILL_THREAD: return "SCMP_ACT_KILL_THREAD";
    case SCMP_ACT_TRAP: return "SCMP_ACT_TRAP";
    case SCMP_ACT_NOTIFY: return "SCMP_ACT_NOTIFY";
    case SCMP_ACT_ERRNO(0): return "SCMP_ACT_ERRNO(" + std::to_string(action & 0xffffu) + ")";
    case SCMP_ACT_TRACE(0): return "SCMP_ACT_TRACE(" + std::to_string(action & 0xffffu) + ")";
    default: return "action " + std::to_string(action);
    }
}

Filter::Filter(std::uint32_t default_action, const std::vector<std::uint32_t> &arches)
    : default_action_(default_action) {
    ctx_ = seccomp_init(default_action);
    if (!ctx_)
        throw std::runtime_error("seccomp_init(" + action_name(default_action) +
                                 "): libseccomp refused the default action");
    // Error codes straight from the kernel rather than libseccomp's generic -ECANCELED.
    if (int rc = seccomp_attr_set(ctx_, SCMP_FLTATR_API_SYSRAWRC, 1); rc < 0)
        fail("seccomp_attr_set SCMP_FLTATR_API_SYSRAWRC", rc);
    // A binary tree of syscall numbers: long profiles stay cheap on every syscall.
    if (int rc = seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
        fail("seccomp_attr_set SCMP_FLTATR_CTL_OPTIMIZE", rc);
    const std::uint32_t native = seccomp_arch_native();
    for (std::uint32_t arch : arches) {
        if (seccomp_arch_exist(ctx_, arch) == 0)
            continue;
        if (int rc = seccomp_arch_add(ctx_, arch); rc < 0)
            fail("seccomp_arch_add " + arch_name(arch), rc);
    }
    if (std::find(arches.begin(), arches.end(), native) == arches.end())
        if (int rc = seccomp_arch_remove(ctx_, native); rc < 0)
            fail("seccomp_arch_remove " + arch_name(native), rc);
    arches_ = arches;
}

Filter::~Filter() {
    if (ctx_)
        seccomp_release(ctx_);
}

Filter::Filter(Filter &&other) noexcept
    : ctx_(other.ctx_), default_action_(other.default_action_), arches_(std::move(other.arches_)),
      rules_(other.rules_), rule_list_(std::move(other.rule_list_)),
      default_label_(std::move(other.default_label_)) {
    other.ctx_ = nullptr;
}

Filter &Filter::operator=(Filter &&other) noexcept {
    if (this != &other) {
        if (ctx_)
            seccomp_release(ctx_);
        ctx_ = other.ctx_;
        default_action_ = other.default_action_;
        arches_ = std::move(other.arches_);
        rules_ = other.rules_;
        rule_list_ = std::move(other.rule_list_);
        default_label_ = std::move(other.default_label_);
        other.ctx_ = nullptr;
    }
    return *this;
}

bool Filter::known(std::string_view name) {
    return seccomp_syscall_resolve_name(std::string(name).c_str()) != __NR_SCMP_ERROR;
}

bool Filter::on_some_arch(std::string_view name) const {
    const std::string text(name);
    // Per ABI: the same name has a different number (or none) on each, e.g. ptrace is 101 on
    // x86_64, 26 on x86 and 521|0x40000000 on x32. Negative results are libseccomp's
    // "pseudo-syscall" numbers: the name exists elsewhere, not on this ABI.
    return std::any_of(arches_.begin(), arches_.end(), [&](std::uint32_t arch) {
        return seccomp_syscall_resolve_name_arch(arch, text.c_str()) >= 0;
    });
}

void Filter::add_rule(std::uint32_t action, std::string_view name,
                      const std::vector<scmp_arg_cmp> &conditions, std::string label) {
    const std::string text(name);
    // seccomp_syscall_resolve_name gives the native number, or a pseudo-syscall number for a name
    // that exists only on other ABIs. seccomp_rule_add then translates it by name for every ABI
    // of the filter (never by number: the numbers differ between ABIs) and skips the ABIs that
    // lack the syscall.
    const int nr = seccomp_syscall_resolve_name(text.c_str());
    if (nr == __NR_SCMP_ERROR)
        throw std::runtime_error("seccomp_rule_add '" + text + "': libseccomp " +
                                 std::to_string(seccomp_version()->major) + "." +
                                 std::to_string(seccomp_version()->minor) + "." +
                                 std::to_string(seccomp_version()->micro) + " does not know this syscall");
    const int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(conditions.size()),
                                          conditions.empty() ? nullptr : conditions.data());
    if (rc < 0)
        fail("seccomp_rule_add '" + text + "'", rc);
    ++rules_;
    rule_list_.push_back(Rule{action, text, conditions, std::move(label)});
}

std::string Filter::export_pfc() const {
    UniqueFd fd(::memfd_create("rustyolo-seccomp-pfc", MFD_CLOEXEC));
    if (fd.get() < 0)
        fail("memfd_create", errno);
    if (int rc = seccomp_export_pfc(ctx_, fd.get()); rc < 0)
        fail("seccomp_export_pfc", rc);
    std::string text;
    char buf[8192];
    for (off_t offset = 0;;) {
        ssize_t n = ::pread(fd.get(), buf, sizeof buf, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("reading the exported filter", errno);
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
        offset += n;
    }
    return text;
}

void Filter::load() const {
    if (int rc = seccomp_load(ctx_); rc < 0)
        throw LoadError(std::string("seccomp_load: ") + std::strerror(-rc), -rc);
}

int Filter::notify_fd() const {
    const int fd = seccomp_notify_fd(ctx_);
    return fd >= 0 ? fd : -1;
}

}  // namespace rustyolo::seccomp
