#include "plugins/seccomp/default_policy.hpp"

#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace rustyolo::seccomp {

namespace {

// Namespace flags of clone(2). CLONE_NEWTIME (0x80) is not among them: in clone's flags that bit
// belongs to the exit signal (CSIGNAL); only clone3 and unshare take it, and both are denied.
constexpr std::uint64_t kCloneNamespaceFlags[] = {CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                                  CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};

// The low 32 bits of an argument: what the kernel sees of an `unsigned int` parameter.
constexpr std::uint64_t kLow32 = 0xffffffffu;

void deny_personality_changes(Filter &filter) {
    // Deny unless the low 32 bits are all 0 (PER_LINUX) or all 1 (the 0xffffffff query).
    // libseccomp ANDs the conditions of one rule and refuses two on the same argument, so "not
    // constant" is written as an OR of rules: a 32-bit value is neither all zeros nor all ones
    // exactly when, going round its bits as a cycle, some bit i is 1 and bit i+1 (mod 32) is 0.
    // One rule per position: 32 rules, each a single masked comparison.
    for (unsigned i = 0; i < 32; ++i) {
        const std::uint64_t one = std::uint64_t{1} << i;
        const std::uint64_t next = std::uint64_t{1} << ((i + 1) % 32);
        filter.add_rule(SCMP_ACT_ERRNO(EPERM), "personality",
                        {condition(0, SCMP_CMP_MASKED_EQ, one | next, one)}, "default: personality change");
    }
}

// socket(2) and socketpair(2) take the family as an int: the kernel looks at the low 32 bits. A
// family is allowed when the argument is one of allowed_socket_families(); every other value is
// denied with EAFNOSUPPORT, the kernel's own answer for a family it does not have. libseccomp ANDs
// one rule's conditions and refuses two on the same argument, so "not allowed" is an OR of rules:
// one per value below the largest allowed family whose low 32 bits are not allowed (a masked
// comparison, as the kernel truncates), and one for every 64-bit value above it. A value above it
// in 64 bits whose low 32 bits are an allowed family (garbage in the high half) is denied too: libc
// passes an int sign-extended, so only a hand-made call has one. Families the kernel does not know
// (AF_MAX and above) are denied, so a family a newer kernel adds stays denied.
void deny_other_socket_families(Filter &filter) {
    const auto &allowed = allowed_socket_families();
    const int highest = *std::max_element(allowed.begin(), allowed.end());
    for (const char *name : {"socket", "socketpair"}) {
        for (int family = 0; family < highest; ++family)
            if (std::find(allowed.begin(), allowed.end(), family) == allowed.end())
                filter.add_rule(SCMP_ACT_ERRNO(EAFNOSUPPORT), name,
                                {condition(0, SCMP_CMP_MASKED_EQ, kLow32, static_cast<std::uint64_t>(family))},
                                "default: address family");
        filter.add_rule(SCMP_ACT_ERRNO(EAFNOSUPPORT), name,
                        {condition(0, SCMP_CMP_GT, static_cast<std::uint64_t>(highest))}, "default: address family");
    }
}

// Setting the set-user-ID or set-group-ID bit of a file: denied whatever the file. Where the agent
// writes files that belong to another user on the host — a root-owned project reached through an
// idmapped mount, where the agent's files land as root's — such a bit would leave a set-user-ID
// root program on the host for anyone there to run. The mode argument of each call that sets a
// mode (chmod family, file creation, mknod) is checked for each bit. openat2 takes its mode in a
// structure the filter cannot read: it is refused with ENOSYS (libc falls back to openat).
void deny_setid_modes(Filter &filter) {
    const struct {
        const char *name;
        unsigned mode_arg;
    } calls[] = {{"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2}, {"creat", 1},
                 {"open", 2},  {"openat", 3}, {"mknod", 1},    {"mknodat", 2}};
    for (const auto &call : calls)
        for (std::uint64_t bit : {std::uint64_t{S_ISUID}, std::uint64_t{S_ISGID}})
            filter.add_rule(SCMP_ACT_ERRNO(EPERM), call.name, {condition(call.mode_arg, SCMP_CMP_MASKED_EQ, bit, bit)},
                            "default: set-user-ID or set-group-ID mode");
    filter.add_rule(SCMP_ACT_ERRNO(ENOSYS), "openat2", {}, "default: openat2 (its mode cannot be checked)");
}

}  // namespace

const std::vector<int> &allowed_socket_families() {
    // AF_NETLINK: glibc's getifaddrs and getaddrinfo's AI_ADDRCONFIG (NETLINK_ROUTE), libuv's
    // os.networkInterfaces(), `ip`. Netlink never leaves the kernel; what it could change needs
    // CAP_NET_ADMIN, which the agent does not have.
    static const std::vector<int> families{AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
    return families;
}

const std::vector<std::string_view> &always_denied_syscalls() {
    static const std::vector<std::string_view> names{
        // Other processes' memory.
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        // Mounts, old and new API, and root changes.
        "mount",
        "umount",
        "umount2",
        "pivot_root",
        "chroot",
        "open_tree",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        // Kernel modules and kexec.
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        // In-kernel programs and performance counters.
        "bpf",
        "perf_event_open",
        // The kernel keyring (not namespaced).
        "add_key",
        "request_key",
        "keyctl",
        // Page-fault handling from user space (a classic exploit primitive).
        "userfaultfd",
        // Namespaces.
        "unshare",
        "setns",
        // Host-wide administration.
        "acct",
        "swapon",
        "swapoff",
        "reboot",
        "quotactl",
        "quotactl_fd",
        "lookup_dcookie",
        // Raw port I/O and vm86 mode (x86).
        "iopl",
        "ioperm",
        "vm86",
        "vm86old",
        // File handles bypass path-based checks.
        "name_to_handle_at",
        "open_by_handle_at",
        // io_uring: a second syscall interface this filter cannot see into.
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
    };
    return names;
}

Filter default_filter(const std::vector<std::uint32_t> &arches) {
    Filter filter(SCMP_ACT_ALLOW, arches);
    for (std::string_view name : always_denied_syscalls())
        filter.add_rule(SCMP_ACT_ERRNO(EPERM), name, {}, "default: always denied");

    for (std::uint64_t flag : kCloneNamespaceFlags)
        filter.add_rule(SCMP_ACT_ERRNO(EPERM), "clone", {condition(0, SCMP_CMP_MASKED_EQ, flag, flag)},
                        "default: clone with a namespace flag");
    filter.add_rule(SCMP_ACT_ERRNO(ENOSYS), "clone3", {}, "default: clone3");

    deny_personality_changes(filter);
    deny_other_socket_families(filter);
    deny_setid_modes(filter);

    // Faking terminal input (TIOCSTI) or the Linux console's selection paste (TIOCLINUX) would
    // let the agent type commands into the user's terminal after it exits.
    for (std::uint64_t request : {std::uint64_t{TIOCSTI}, std::uint64_t{TIOCLINUX}})
        filter.add_rule(SCMP_ACT_ERRNO(EPERM), "ioctl", {condition(1, SCMP_CMP_MASKED_EQ, kLow32, request)},
                        "default: terminal input injection");
    return filter;
}

}  // namespace rustyolo::seccomp
