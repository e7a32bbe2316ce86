/* syscalls: calls every syscall the sandbox must deny, with arguments that make the kernel fail
 * harmlessly (EBADF, EFAULT, EINVAL, ...) if the call is let through, and prints one line per check:
 *
 *     <name> <RESULT>
 *
 * RESULT is the errno's symbolic name (EPERM, ENOSYS, EBADF, ...), OK when the call returned
 * >= 0, or KILLED_<SIGNAL> when the call killed the process. A seccomp filter that denies a call
 * makes it fail with the filter's errno before the kernel looks at the arguments; an allowed call
 * gets the argument error instead, so the two are told apart (bubblewrap's try-syscall method).
 * Every check runs in a child process, so one check that kills its process cannot hide the rest.
 *
 * Built twice: 64-bit (x86_64 entry) and `-m32 -static` (i386 entry). The first line names the
 * ABI: "abi x86_64" or "abi i386". Calls that an ABI does not have are not printed. The 64-bit
 * build also tries a few calls through the x32 entry (syscall number | 0x40000000), printed as
 * x32_<name>.
 *
 * No check does anything if it is allowed: each one fails on its arguments before acting (see the
 * comment on each). Safe to run as root on a development host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define TIOCSTI_REQ 0x5412UL
#define TIOCGWINSZ_REQ 0x5413UL
#define X32_BIT 0x40000000L
#define BAD_PTR ((long)1) /* never mapped: any copy from it faults */

static const char *errno_name(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOKEY: return "ENOKEY";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    default: return NULL;
    }
}

static const char *signal_name(int s) {
    switch (s) {
    case SIGSYS: return "SIGSYS";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return NULL;
    }
}

/* One line, written with a single write(2) so that lines from children never interleave. */
static void emit(const char *name, const char *result) {
    char line[160];
    int n = snprintf(line, sizeof line, "%s %s\n", name, result);
    if (n > 0 && write(1, line, (size_t)n) < 0)
        _exit(99);
}

static void emit_result(const char *name, long ret, int err) {
    char buf[32];
    if (ret >= 0) {
        emit(name, "OK");
        return;
    }
    const char *e = errno_name(err);
    if (!e) {
        snprintf(buf, sizeof buf, "E%d", err);
        e = buf;
    }
    emit(name, e);
}

typedef long (*check_fn)(void);

/* Runs one check in a child; the child prints its own result, the parent reports a killed child. */
static void run(const char *name, check_fn fn) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        emit(name, "FORK_FAILED");
        return;
    }
    if (pid == 0) {
        errno = 0;
        long ret = fn();
        emit_result(name, ret, errno);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        char buf[48];
        const char *s = signal_name(WTERMSIG(status));
        if (s)
            snprintf(buf, sizeof buf, "KILLED_%s", s);
        else
            snprintf(buf, sizeof buf, "KILLED_%d", WTERMSIG(status));
        emit(name, buf);
    }
}

/* --- denied calls (each fails on its arguments if it gets through the filter) ----------------- */

/* pid -1 does not exist: ESRCH. */
static long c_ptrace(void) { return syscall(SYS_ptrace, 7 /* PTRACE_CONT */, -1L, 0L, 0L); }
/* flags must be 0: EINVAL before anything is read. */
static long c_process_vm_readv(void) { return syscall(SYS_process_vm_readv, 1L, 0L, 0L, 0L, 0L, 1L); }
static long c_process_vm_writev(void) { return syscall(SYS_process_vm_writev, 1L, 0L, 0L, 0L, 0L, 1L); }
/* target pointer unreadable: EFAULT (or EPERM from the capability check without CAP_SYS_ADMIN). */
static long c_mount(void) { return syscall(SYS_mount, BAD_PTR, BAD_PTR, BAD_PTR, 0L, 0L); }
/* unknown flags: EINVAL. */
static long c_umount2(void) { return syscall(SYS_umount2, BAD_PTR, 0xffffffffL); }
static long c_pivot_root(void) { return syscall(SYS_pivot_root, BAD_PTR, BAD_PTR); }
static long c_chroot(void) { return syscall(SYS_chroot, BAD_PTR); }
#ifdef SYS_open_tree
static long c_open_tree(void) { return syscall(SYS_open_tree, -1L, BAD_PTR, 0xffffffffL); }
static long c_move_mount(void) { return syscall(SYS_move_mount, -1L, BAD_PTR, -1L, BAD_PTR, 0xffffffffL); }
static long c_fsopen(void) { return syscall(SYS_fsopen, BAD_PTR, 0xffffffffL); }
/* fd < 0: EINVAL. */
static long c_fsconfig(void) { return syscall(SYS_fsconfig, -1L, 0L, 0L, 0L, 0L); }
static long c_fsmount(void) { return syscall(SYS_fsmount, -1L, 0xffffffffL, 0L); }
static long c_fspick(void) { return syscall(SYS_fspick, -1L, BAD_PTR, 0xffffffffL); }
#endif
#ifdef SYS_mount_setattr
static long c_mount_setattr(void) { return syscall(SYS_mount_setattr, -1L, BAD_PTR, 0xffffffffL, 0L, 0L); }
#endif
/* length 0 is shorter than an ELF header: ENOEXEC. */
static long c_init_module(void) { return syscall(SYS_init_module, 0L, 0L, BAD_PTR); }
/* unknown flags: EINVAL; fd -1: EBADF. */
static long c_finit_module(void) { return syscall(SYS_finit_module, -1L, BAD_PTR, 0xffffffffL); }
/* name unreadable: EFAULT. */
static long c_delete_module(void) { return syscall(SYS_delete_module, BAD_PTR, 0L); }
/* unknown flags: EINVAL. */
static long c_kexec_load(void) { return syscall(SYS_kexec_load, 0L, 0L, 0L, 0xffffffffL); }
#ifdef SYS_kexec_file_load
static long c_kexec_file_load(void) { return syscall(SYS_kexec_file_load, -1L, -1L, 0L, 0L, 0xffffffffL); }
#endif
/* unknown command: EINVAL (or EPERM when unprivileged bpf is disabled). */
static long c_bpf(void) { return syscall(SYS_bpf, 0xffffL, 0L, 0L); }
/* attr unreadable: EFAULT. */
static long c_perf_event_open(void) { return syscall(SYS_perf_event_open, BAD_PTR, 0L, -1L, -1L, 0L); }
static long c_add_key(void) { return syscall(SYS_add_key, BAD_PTR, BAD_PTR, 0L, 0L, 0L); }
static long c_request_key(void) { return syscall(SYS_request_key, BAD_PTR, BAD_PTR, 0L, 0L); }
/* unknown operation: EOPNOTSUPP. */
static long c_keyctl(void) { return syscall(SYS_keyctl, 0xffffL, 0L, 0L, 0L, 0L); }
/* UFFD_USER_MODE_ONLY (allowed to anyone) plus an unknown flag: EINVAL. */
static long c_userfaultfd(void) { return syscall(SYS_userfaultfd, 1L | 0x100L); }
/* a CSIGNAL bit is not a valid unshare flag: EINVAL (after CLONE_NEWUSER is seen). */
static long c_unshare(void) { return syscall(SYS_unshare, (long)(CLONE_NEWUSER | 0x1)); }
static long c_setns(void) { return syscall(SYS_setns, -1L, 0L); }
static long c_acct(void) { return syscall(SYS_acct, BAD_PTR); }
static long c_swapon(void) { return syscall(SYS_swapon, BAD_PTR, 0xffffffffL); }
static long c_swapoff(void) { return syscall(SYS_swapoff, BAD_PTR); }
/* wrong magic: EINVAL. */
static long c_reboot(void) { return syscall(SYS_reboot, 0L, 0L, 0L, 0L); }
/* no device given for a non-sync command: ENODEV. */
static long c_quotactl(void) { return syscall(SYS_quotactl, 0L, 0L, 0L, 0L); }
#ifdef SYS_iopl
/* level > 3: EINVAL. */
static long c_iopl(void) { return syscall(SYS_iopl, 99L); }
#endif
#ifdef SYS_ioperm
/* range beyond the 65536 ports: EINVAL. */
static long c_ioperm(void) { return syscall(SYS_ioperm, 0x10000L, 1L, 0L); }
#endif
static long c_name_to_handle_at(void) { return syscall(SYS_name_to_handle_at, -1L, BAD_PTR, BAD_PTR, BAD_PTR, 0xffffffffL); }
static long c_open_by_handle_at(void) { return syscall(SYS_open_by_handle_at, -1L, BAD_PTR, 0L); }
#ifdef SYS_io_uring_setup
/* params unreadable: EFAULT. */
static long c_io_uring_setup(void) { return syscall(SYS_io_uring_setup, 1L, BAD_PTR); }
static long c_io_uring_enter(void) { return syscall(SYS_io_uring_enter, -1L, 0L, 0L, 0L, 0L, 0L); }
static long c_io_uring_register(void) { return syscall(SYS_io_uring_register, -1L, 0L, 0L, 0L); }
#endif
#ifdef SYS_clone3
/* size 0 is below CLONE_ARGS_SIZE_VER0: EINVAL. The filter must answer ENOSYS (glibc falls back). */
static long c_clone3(void) { return syscall(SYS_clone3, 0L, 0L); }
#endif

/* clone with one CLONE_NEW* flag plus CLONE_SIGHAND without CLONE_VM: EINVAL before any process
 * is created. The twin clone_no_newflags below has the same invalid combination without a
 * namespace flag, so it shows that the filter looks at the flags, not at clone itself. */
static long clone_with(long ns_flag) { return syscall(SYS_clone, ns_flag | (long)CLONE_SIGHAND, 0L, 0L, 0L, 0L); }
static long c_clone_newns(void) { return clone_with(CLONE_NEWNS); }
static long c_clone_newuts(void) { return clone_with(CLONE_NEWUTS); }
static long c_clone_newipc(void) { return clone_with(CLONE_NEWIPC); }
static long c_clone_newuser(void) { return clone_with(CLONE_NEWUSER); }
static long c_clone_newpid(void) { return clone_with(CLONE_NEWPID); }
static long c_clone_newnet(void) { return clone_with(CLONE_NEWNET); }
static long c_clone_newcgroup(void) { return clone_with(CLONE_NEWCGROUP); }

/* fd -1: EBADF if the request is let through. */
static long c_ioctl_tiocsti(void) { return syscall(SYS_ioctl, -1L, TIOCSTI_REQ, 0L); }
#if defined(__x86_64__)
/* The kernel truncates the request to 32 bits, so this is TIOCSTI too. */
static long c_ioctl_tiocsti_highbits(void) { return syscall(SYS_ioctl, -1L, 0xffffffff00005412UL, 0L); }
#endif

/* Address families outside the allowlist (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK): the filter
 * answers EAFNOSUPPORT. Let through, socket() only creates a socket (closed at once: nothing is
 * connected or sent); AF_PACKET fails with EPERM without CAP_NET_RAW; socketpair(AF_VSOCK) with
 * EOPNOTSUPP; family 46 (AF_MAX on Linux 6.x) with the kernel's own EAFNOSUPPORT. */
#define AF_VSOCK_NR 40L
#define AF_PACKET_NR 17L
static long made(long ret) {
    if (ret >= 0)
        close((int)ret);
    return ret < 0 ? ret : 0;
}
static long c_socket_vsock(void) { return made(syscall(SYS_socket, AF_VSOCK_NR, 1L /* SOCK_STREAM */, 0L)); }
static long c_socket_packet(void) { return made(syscall(SYS_socket, AF_PACKET_NR, 2L /* SOCK_DGRAM */, 0L)); }
static long c_socket_family_max(void) { return made(syscall(SYS_socket, 46L, 2L, 0L)); }
static long c_socketpair_vsock(void) {
    int sv[2];
    long ret = syscall(SYS_socketpair, AF_VSOCK_NR, 1L, 0L, sv);
    if (ret == 0) {
        close(sv[0]);
        close(sv[1]);
    }
    return ret;
}
#if defined(__i386__)
/* i386's socketcall multiplexer reads the family from memory, which a filter cannot: the filter
 * denies socketcall(SYS_SOCKET) and socketcall(SYS_SOCKETPAIR) whatever the family. */
static long socketcall_socket(long family) {
    unsigned long args[3] = {(unsigned long)family, family == AF_VSOCK_NR ? 1UL : 2UL, 0UL};
    return made(syscall(SYS_socketcall, 1L /* SYS_SOCKET */, args));
}
static long c_socketcall_socket_vsock(void) { return socketcall_socket(AF_VSOCK_NR); }
static long c_socketcall_socket_inet(void) { return socketcall_socket(2L); }
#endif

/* --- allowed calls (the positive twins) ------------------------------------------------------- */

static long a_read_badfd(void) { return syscall(SYS_read, -1L, 0L, 0L); }
static long a_write_badfd(void) { return syscall(SYS_write, -1L, 0L, 0L); }
static long a_getpid(void) { return syscall(SYS_getpid); }
static long a_ioctl_tiocgwinsz(void) { return syscall(SYS_ioctl, -1L, TIOCGWINSZ_REQ, 0L); }
static long a_clone_no_newflags(void) { return syscall(SYS_clone, (long)CLONE_SIGHAND, 0L, 0L, 0L, 0L); }
/* personality(0xffffffff) only queries the current persona. */
static long a_personality_query(void) { return syscall(SYS_personality, 0xffffffffL); }
static long a_socket_unix(void) { return made(syscall(SYS_socket, 1L, 1L, 0L)); }
static long a_socket_inet(void) { return made(syscall(SYS_socket, 2L, 2L, 0L)); }
static long a_socket_inet6(void) { return made(syscall(SYS_socket, 10L, 2L, 0L)); }
static long a_socket_netlink(void) { return made(syscall(SYS_socket, 16L, 3L /* SOCK_RAW */, 0L /* NETLINK_ROUTE */)); }
static long a_socketpair_unix(void) {
    int sv[2];
    long ret = syscall(SYS_socketpair, 1L, 1L, 0L, sv);
    if (ret == 0) {
        close(sv[0]);
        close(sv[1]);
    }
    return ret;
}
static long a_fork_and_wait(void) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(7);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 7) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* --- x32 entry points (64-bit build only) ----------------------------------------------------- */
#if defined(__x86_64__)
/* x32 numbers from asm/unistd_x32.h (without the x32 bit): ptrace is 521 there, not 101. */
static long x_ptrace(void) { return syscall(X32_BIT | 521L, 7L, -1L, 0L, 0L); }
static long x_mount(void) { return syscall(X32_BIT | 165L, BAD_PTR, BAD_PTR, BAD_PTR, 0L, 0L); }
static long x_unshare(void) { return syscall(X32_BIT | 272L, (long)(CLONE_NEWUSER | 0x1)); }
static long x_io_uring_setup(void) { return syscall(X32_BIT | 425L, 1L, BAD_PTR); }
static long x_bpf(void) { return syscall(X32_BIT | 321L, 0xffffL, 0L, 0L); }
static long x_socket_vsock(void) { return made(syscall(X32_BIT | 41L, AF_VSOCK_NR, 1L, 0L)); }
#endif

struct check {
    const char *name;
    check_fn fn;
};

static const struct check checks[] = {
    {"ptrace", c_ptrace},
    {"process_vm_readv", c_process_vm_readv},
    {"process_vm_writev", c_process_vm_writev},
    {"mount", c_mount},
    {"umount2", c_umount2},
    {"pivot_root", c_pivot_root},
    {"chroot", c_chroot},
#ifdef SYS_open_tree
    {"open_tree", c_open_tree},
    {"move_mount", c_move_mount},
    {"fsopen", c_fsopen},
    {"fsconfig", c_fsconfig},
    {"fsmount", c_fsmount},
    {"fspick", c_fspick},
#endif
#ifdef SYS_mount_setattr
    {"mount_setattr", c_mount_setattr},
#endif
    {"init_module", c_init_module},
    {"finit_module", c_finit_module},
    {"delete_module", c_delete_module},
    {"kexec_load", c_kexec_load},
#ifdef SYS_kexec_file_load
    {"kexec_file_load", c_kexec_file_load},
#endif
    {"bpf", c_bpf},
    {"perf_event_open", c_perf_event_open},
    {"add_key", c_add_key},
    {"request_key", c_request_key},
    {"keyctl", c_keyctl},
    {"userfaultfd", c_userfaultfd},
    {"unshare", c_unshare},
    {"setns", c_setns},
    {"acct", c_acct},
    {"swapon", c_swapon},
    {"swapoff", c_swapoff},
    {"reboot", c_reboot},
    {"quotactl", c_quotactl},
#ifdef SYS_iopl
    {"iopl", c_iopl},
#endif
#ifdef SYS_ioperm
    {"ioperm", c_ioperm},
#endif
    {"name_to_handle_at", c_name_to_handle_at},
    {"open_by_handle_at", c_open_by_handle_at},
#ifdef SYS_io_uring_setup
    {"io_uring_setup", c_io_uring_setup},
    {"io_uring_enter", c_io_uring_enter},
    {"io_uring_register", c_io_uring_register},
#endif
#ifdef SYS_clone3
    {"clone3", c_clone3},
#endif
    {"clone_newns", c_clone_newns},
    {"clone_newuts", c_clone_newuts},
    {"clone_newipc", c_clone_newipc},
    {"clone_newuser", c_clone_newuser},
    {"clone_newpid", c_clone_newpid},
    {"clone_newnet", c_clone_newnet},
    {"clone_newcgroup", c_clone_newcgroup},
    {"ioctl_tiocsti", c_ioctl_tiocsti},
#if defined(__x86_64__)
    {"ioctl_tiocsti_highbits", c_ioctl_tiocsti_highbits},
#endif
    {"socket_vsock", c_socket_vsock},
    {"socket_packet", c_socket_packet},
    {"socket_family_max", c_socket_family_max},
    {"socketpair_vsock", c_socketpair_vsock},
#if defined(__i386__)
    {"socketcall_socket_vsock", c_socketcall_socket_vsock},
    {"socketcall_socket_inet", c_socketcall_socket_inet},
#endif
    {"allowed_read_badfd", a_read_badfd},
    {"allowed_write_badfd", a_write_badfd},
    {"allowed_getpid", a_getpid},
    {"allowed_ioctl_tiocgwinsz", a_ioctl_tiocgwinsz},
    {"allowed_clone_no_newflags", a_clone_no_newflags},
    {"allowed_personality_query", a_personality_query},
    {"allowed_fork_and_wait", a_fork_and_wait},
    {"allowed_socket_unix", a_socket_unix},
    {"allowed_socket_inet", a_socket_inet},
    {"allowed_socket_inet6", a_socket_inet6},
    {"allowed_socket_netlink", a_socket_netlink},
    {"allowed_socketpair_unix", a_socketpair_unix},
#if defined(__x86_64__)
    {"x32_ptrace", x_ptrace},
    {"x32_mount", x_mount},
    {"x32_unshare", x_unshare},
    {"x32_io_uring_setup", x_io_uring_setup},
    {"x32_bpf", x_bpf},
    {"x32_socket_vsock", x_socket_vsock},
#endif
};

int main(void) {
#if defined(__x86_64__)
    emit("abi", "x86_64");
#elif defined(__i386__)
    emit("abi", "i386");
#else
#error "build for x86_64 or i386"
#endif
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; ++i)
        run(checks[i].name, checks[i].fn);
    emit("done", "OK");
    return 0;
}
