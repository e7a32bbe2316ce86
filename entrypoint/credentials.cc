#include "entrypoint/credentials.hpp"

#include "entrypoint/setup_error.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iterator>
#include <stdexcept>
#include <string>

namespace rustyolo::entrypoint {

namespace {

// capabilities(7) names, for messages.
std::string capability_name(int cap) {
    static const char *const names[] = {"CAP_CHOWN",
                                        "CAP_DAC_OVERRIDE",
                                        "CAP_DAC_READ_SEARCH",
                                        "CAP_FOWNER",
                                        "CAP_FSETID",
                                        "CAP_KILL",
                                        "CAP_SETGID",
                                        "CAP_SETUID",
                                        "CAP_SETPCAP",
                                        "CAP_LINUX_IMMUTABLE",
                                        "CAP_NET_BIND_SERVICE",
                                        "CAP_NET_BROADCAST",
                                        "CAP_NET_ADMIN",
                                        "CAP_NET_RAW",
                                        "CAP_IPC_LOCK",
                                        "CAP_IPC_OWNER",
                                        "CAP_SYS_MODULE",
                                        "CAP_SYS_RAWIO",
                                        "CAP_SYS_CHROOT",
                                        "CAP_SYS_PTRACE",
                                        "CAP_SYS_PACCT",
                                        "CAP_SYS_ADMIN",
                                        "CAP_SYS_BOOT",
                                        "CAP_SYS_NICE",
                                        "CAP_SYS_RESOURCE",
                                        "CAP_SYS_TIME",
                                        "CAP_SYS_TTY_CONFIG",
                                        "CAP_MKNOD",
                                        "CAP_LEASE",
                                        "CAP_AUDIT_WRITE",
                                        "CAP_AUDIT_CONTROL",
                                        "CAP_SETFCAP",
                                        "CAP_MAC_OVERRIDE",
                                        "CAP_MAC_ADMIN",
                                        "CAP_SYSLOG",
                                        "CAP_WAKE_ALARM",
                                        "CAP_BLOCK_SUSPEND",
                                        "CAP_AUDIT_READ",
                                        "CAP_PERFMON",
                                        "CAP_BPF",
                                        "CAP_CHECKPOINT_RESTORE"};
    if (cap >= 0 && static_cast<std::size_t>(cap) < std::size(names))
        return names[cap];
    return "capability " + std::to_string(cap);
}

// Capabilities the running kernel knows: PR_CAPBSET_READ fails with EINVAL past the last one.
int capability_count() {
    int cap = 0;
    while (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0)
        ++cap;
    if (errno != EINVAL)
        throw_errno("prctl(PR_CAPBSET_READ, " + std::to_string(cap) + ")");
    return cap;
}

void empty_bounding_set(int count) {
    for (int cap = 0; cap < count; ++cap) {
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
            continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            const int error = errno;
            throw std::runtime_error(
                "cannot drop " + capability_name(cap) +
                " from the bounding set (prctl PR_CAPBSET_DROP): " + std::strerror(error) +
                (error == EPERM ? "; the supervisor needs CAP_SETPCAP for this (the runtime "
                                  "must start the container with --cap-add SETPCAP)"
                                : ""));
        }
    }
}

void clear_ambient_set() {
    // EINVAL: a kernel without ambient capabilities (< 4.3) has none to clear.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        throw_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
}

void become(uid_t uid, gid_t gid) {
    if (::setgroups(0, nullptr) != 0)
        throw_errno("setgroups(0)");
    if (::setresgid(gid, gid, gid) != 0)
        throw_errno("setresgid(" + std::to_string(gid) + ")");
    if (::setresuid(uid, uid, uid) != 0)
        throw_errno("setresuid(" + std::to_string(uid) + ")");
}

// Leaving uid 0 already cleared permitted and effective; inheritable survives it.
void clear_process_sets() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capset, &header, data) != 0)
        throw_errno("capset (inheritable, permitted, effective to none)");
}

void set_no_new_privs() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
}

// Checks the result, so that a kernel or runtime surprise cannot leave the agent privileged.
void verify(uid_t uid, gid_t gid, int count) {
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0)
        throw_errno("getresuid/getresgid");
    if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid)
        throw std::runtime_error("verification: the process did not become uid " + std::to_string(uid) +
                                 " gid " + std::to_string(gid));
    if (::getgroups(0, nullptr) != 0)
        throw std::runtime_error("verification: supplementary groups remain");
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0)
        throw_errno("capget");
    for (const auto &d : data)
        if (d.effective || d.permitted || d.inheritable)
            throw std::runtime_error("verification: capabilities remain in the process's sets");
    for (int cap = 0; cap < count; ++cap) {
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0)
            throw std::runtime_error("verification: " + capability_name(cap) +
                                     " remains in the bounding set");
        const int ambient = ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
        if (ambient > 0)
            throw std::runtime_error("verification: " + capability_name(cap) + " remains in the ambient set");
    }
    if (::setuid(0) == 0 || ::setgid(0) == 0)
        throw std::runtime_error("verification: the process could become root again");
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        throw std::runtime_error("verification: no_new_privs is not set");
}

}  // namespace

void drop_privileges(uid_t uid, gid_t gid) {
    if (uid == 0 || gid == 0)
        throw std::runtime_error("refusing to run the agent as uid or gid 0");
    const int count = capability_count();
    // Order matters: the bounding set can only be emptied while CAP_SETPCAP is still effective,
    // and setresuid away from root clears the effective set.
    empty_bounding_set(count);
    clear_ambient_set();
    become(uid, gid);
    clear_process_sets();
    set_no_new_privs();
    verify(uid, gid, count);
}

}  // namespace rustyolo::entrypoint
