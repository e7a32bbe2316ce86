#include "plugins/dns-filter/sandbox.hpp"

#include <linux/capability.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace rustyolo::dns {
namespace {

struct FilterDeleter {
    void operator()(void *context) const noexcept { seccomp_release(static_cast<scmp_filter_ctx>(context)); }
};
using SeccompFilter = std::unique_ptr<void, FilterDeleter>;

[[noreturn]] void fail(const std::string &what, int error) {
    throw std::runtime_error(what + ": " + std::strerror(error));
}

void allow(scmp_filter_ctx filter, const char *name, std::initializer_list<scmp_arg_cmp> args = {}) {
    int number = seccomp_syscall_resolve_name(name);
    if (number == __NR_SCMP_ERROR)
        return;  // not a syscall on this architecture (e.g. poll on arm64); nothing to allow
    int rc = seccomp_rule_add_array(filter, SCMP_ACT_ALLOW, number, static_cast<unsigned>(args.size()),
                                    args.size() ? args.begin() : nullptr);
    if (rc < 0)
        fail(std::string("seccomp_rule_add '") + name + "'", -rc);
}

}  // namespace

void require_unprivileged() {
    if (::getuid() == 0 || ::geteuid() == 0 || ::getgid() == 0 || ::getegid() == 0)
        throw std::runtime_error("refusing to run as root: the supervisor starts the DNS filter as uid/gid 65533");
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0)
        fail("capget", errno);
    for (const auto &word : data)
        if (word.effective || word.permitted || word.inheritable)
            throw std::runtime_error("refusing to run with capabilities: the DNS filter must hold none");
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
            throw std::runtime_error("refusing to run with ambient capabilities");
}

void enter_seccomp() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    SeccompFilter owner(seccomp_init(SCMP_ACT_KILL_PROCESS));
    auto filter = static_cast<scmp_filter_ctx>(owner.get());
    if (!filter)
        throw std::runtime_error("seccomp_init failed");

    for (const char *name : {"read", "write", "close", "poll", "ppoll", "connect", "sendto", "recvfrom",
                             "accept4", "getsockopt", "getrandom", "clock_gettime", "gettimeofday", "brk",
                             "munmap", "mremap", "madvise", "futex", "exit", "exit_group", "rt_sigreturn",
                             "restart_syscall"})
        allow(filter, name);
    // Memory, never executable.
    allow(filter, "mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
    allow(filter, "mprotect", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
    // Sockets to the upstream resolvers: IPv4/IPv6, UDP/TCP only.
    const scmp_datum_t type_mask = 0xffffffffu & ~static_cast<scmp_datum_t>(SOCK_NONBLOCK | SOCK_CLOEXEC);
    for (int domain : {AF_INET, AF_INET6})
        for (int type : {SOCK_DGRAM, SOCK_STREAM})
            allow(filter, "socket",
                  {SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, static_cast<scmp_datum_t>(domain)),
                   SCMP_A1(SCMP_CMP_MASKED_EQ, type_mask, static_cast<scmp_datum_t>(type))});

    int rc = seccomp_load(filter);
    if (rc < 0)
        fail("seccomp_load", -rc);
}

}  // namespace rustyolo::dns
