// The filters as the kernel enforces them: each test forks a child that loads a filter and makes
// real syscalls with bad arguments. A denied call fails with the filter's errno; its allowed twin
// fails differently (EBADF, EFAULT...) or succeeds, so the two cannot be confused.
#include "plugins/seccomp/default_policy.hpp"
#include "plugins/seccomp/docker_profile.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include <sys/stat.h>

#include <fcntl.h>

#include <linux/sched.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

namespace rustyolo::seccomp {
namespace {

struct Outcome {
    long result;
    int error;  // errno when result == -1
};

Outcome call(const std::function<long()> &fn) {
    errno = 0;
    long r = fn();
    return {r, r == -1 ? errno : 0};
}

// Runs `checks` in a child after loading `filter`; returns the child's report ("" when all held).
std::string in_filtered_child(const Filter &filter, const std::function<std::string()> &checks) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "pipe failed";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string report;
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            report = "no_new_privs failed";
        } else {
            try {
                filter.load();
                report = checks();
            } catch (const std::exception &e) {
                report = std::string("load failed: ") + e.what();
            }
        }
        if (!report.empty() && ::write(fds[1], report.data(), report.size()) < 0)
            ::_exit(2);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string report;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        report.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        report += " (child status " + std::to_string(status) + ")";
    return report;
}

// Appends a line to `report` unless the call failed with `expected` (0: succeeded).
void expect(std::string &report, const char *what, Outcome got, int expected) {
    const bool ok = expected == 0 ? got.result != -1 : (got.result == -1 && got.error == expected);
    if (!ok)
        report +=
            std::string(what) + ": expected " + (expected ? std::strerror(expected) : "success") + ", got " +
            (got.result == -1 ? std::strerror(got.error) : "success (" + std::to_string(got.result) + ")") +
            "\n";
}

TEST(SeccompEnforcement, DefaultPolicyDeniesWithTheFiltersErrnoAndAllowsTheTwins) {
    const Filter filter = default_filter();
    const std::string report = in_filtered_child(filter, [] {
        std::string r;
        expect(r, "ptrace", call([] { return ::syscall(SYS_ptrace, -1L, -1, 0, 0); }), EPERM);
        expect(r, "process_vm_readv",
               call([] { return ::syscall(SYS_process_vm_readv, -1, nullptr, 0, nullptr, 0, 0); }), EPERM);
        expect(r, "mount", call([] { return ::syscall(SYS_mount, nullptr, nullptr, nullptr, 0, nullptr); }),
               EPERM);
        expect(r, "umount2", call([] { return ::syscall(SYS_umount2, nullptr, 0); }), EPERM);
        expect(r, "fsopen", call([] { return ::syscall(SYS_fsopen, nullptr, 0); }), EPERM);
        expect(r, "open_tree", call([] { return ::syscall(SYS_open_tree, -1, nullptr, 0); }), EPERM);
        expect(r, "bpf", call([] { return ::syscall(SYS_bpf, -1, nullptr, 0); }), EPERM);
        expect(r, "perf_event_open",
               call([] { return ::syscall(SYS_perf_event_open, nullptr, -1, -1, -1, 0); }), EPERM);
        expect(r, "keyctl", call([] { return ::syscall(SYS_keyctl, -1, 0, 0, 0, 0); }), EPERM);
        expect(r, "userfaultfd", call([] { return ::syscall(SYS_userfaultfd, -1); }), EPERM);
        expect(r, "unshare", call([] { return ::syscall(SYS_unshare, CLONE_NEWUSER); }), EPERM);
        expect(r, "setns", call([] { return ::syscall(SYS_setns, -1, 0); }), EPERM);
        expect(r, "io_uring_setup", call([] { return ::syscall(SYS_io_uring_setup, 0, nullptr); }), EPERM);
        expect(r, "open_by_handle_at", call([] { return ::syscall(SYS_open_by_handle_at, -1, nullptr, 0); }),
               EPERM);
        expect(r, "clone3", call([] { return ::syscall(SYS_clone3, nullptr, 0); }), ENOSYS);
        // clone with a namespace flag is denied before the kernel looks at anything else...
        expect(r, "clone(CLONE_NEWUSER)", call([] {
                   return ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | 0x3f00000000UL, nullptr,
                                    nullptr, nullptr, 0);
               }),
               EPERM);
        // ...its twin without one reaches the kernel, which rejects the bad flag combination.
        expect(r, "clone(CLONE_SIGHAND alone)",
               call([] { return ::syscall(SYS_clone, CLONE_SIGHAND, nullptr, nullptr, nullptr, 0); }),
               EINVAL);
        // TIOCSTI, also with garbage in the high 32 bits (the kernel only sees the low ones).
        expect(r, "ioctl(TIOCSTI)", call([] { return ::syscall(SYS_ioctl, -1, TIOCSTI, nullptr); }), EPERM);
        expect(r, "ioctl(TIOCSTI | 1 << 32)",
               call([] { return ::syscall(SYS_ioctl, -1, TIOCSTI | (1UL << 32), nullptr); }), EPERM);
        expect(r, "ioctl(TIOCLINUX)", call([] { return ::syscall(SYS_ioctl, -1, TIOCLINUX, nullptr); }),
               EPERM);
        expect(r, "ioctl(TIOCGWINSZ)", call([] { return ::syscall(SYS_ioctl, -1, TIOCGWINSZ, nullptr); }),
               EBADF);
        // personality: the query and PER_LINUX pass, anything else does not.
        expect(r, "personality(0xffffffff)", call([] { return ::syscall(SYS_personality, 0xffffffffUL); }),
               0);
        expect(r, "personality(PER_LINUX)", call([] { return ::syscall(SYS_personality, PER_LINUX); }), 0);
        expect(r, "personality(ADDR_NO_RANDOMIZE)",
               call([] { return ::syscall(SYS_personality, ADDR_NO_RANDOMIZE); }), EPERM);
        expect(r, "personality(PER_LINUX32)", call([] { return ::syscall(SYS_personality, PER_LINUX32); }),
               EPERM);
        expect(r, "personality(0x7ffffffe)", call([] { return ::syscall(SYS_personality, 0x7ffffffeUL); }),
               EPERM);
        expect(r, "personality(0x80000000)", call([] { return ::syscall(SYS_personality, 0x80000000UL); }),
               EPERM);
        // Sockets: only AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK. AF_VSOCK and AF_PACKET are the
        // discriminating ones (the kernel itself would create the first and answer EPERM to the
        // second without CAP_NET_RAW).
        auto made = [](long family, long type, long protocol) {
            return call([=] {
                long fd = ::syscall(SYS_socket, family, type, protocol);
                if (fd >= 0)
                    ::close(static_cast<int>(fd));
                return fd;
            });
        };
        expect(r, "socket(AF_UNIX)", made(AF_UNIX, SOCK_STREAM, 0), 0);
        expect(r, "socket(AF_INET)", made(AF_INET, SOCK_DGRAM, 0), 0);
        expect(r, "socket(AF_INET6)", made(AF_INET6, SOCK_DGRAM, 0), 0);
        expect(r, "socket(AF_NETLINK)", made(AF_NETLINK, SOCK_RAW, 0), 0);
        expect(r, "socket(AF_VSOCK)", made(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT);
        expect(r, "socket(AF_PACKET)", made(AF_PACKET, SOCK_DGRAM, 0), EAFNOSUPPORT);
        expect(r, "socket(0)", made(0, SOCK_DGRAM, 0), EAFNOSUPPORT);
        expect(r, "socket(AF_MAX)", made(AF_MAX, SOCK_DGRAM, 0), EAFNOSUPPORT);
        expect(r, "socket(-1)", made(-1, SOCK_DGRAM, 0), EAFNOSUPPORT);
        expect(r, "socket(AF_VSOCK | 1 << 32)", made(AF_VSOCK | (1L << 32), SOCK_STREAM, 0), EAFNOSUPPORT);
        expect(r, "socket(AF_INET | 1 << 32)", made(AF_INET | (1L << 32), SOCK_DGRAM, 0), EAFNOSUPPORT);
        int pair[2];
        expect(r, "socketpair(AF_UNIX)", call([&] {
                   long rc = ::syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, pair);
                   if (rc == 0) {
                       ::close(pair[0]);
                       ::close(pair[1]);
                   }
                   return rc;
               }),
               0);
        expect(r, "socketpair(AF_VSOCK)", call([&] { return ::syscall(SYS_socketpair, AF_VSOCK, SOCK_STREAM, 0, pair); }),
               EAFNOSUPPORT);
        // Ordinary calls still work.
        expect(r, "getppid", call([] { return ::syscall(SYS_getppid); }), 0);
        expect(r, "dup(-1)", call([] { return ::syscall(SYS_dup, -1); }), EBADF);
        return r;
    });
    EXPECT_EQ(report, "");
}

TEST(SeccompEnforcement, DefaultPolicyDeniesSetUserAndGroupIdModesAndAllowsOtherModes) {
    char dir_template[] = "/tmp/seccomp-setid-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template;
    const std::string file = dir + "/file";
    const int fd0 = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd0, 0);
    ::close(fd0);
    const Filter filter = default_filter();
    const std::string report = in_filtered_child(filter, [&] {
        std::string r;
        const char *f = file.c_str();
        expect(r, "chmod(04755)", call([&] { return ::syscall(SYS_chmod, f, 04755); }), EPERM);
        expect(r, "chmod(02755)", call([&] { return ::syscall(SYS_chmod, f, 02755); }), EPERM);
        expect(r, "chmod(0755)", call([&] { return ::syscall(SYS_chmod, f, 0755); }), 0);
        expect(r, "fchmodat(04755)", call([&] { return ::syscall(SYS_fchmodat, AT_FDCWD, f, 04755); }), EPERM);
        expect(r, "fchmodat(0700)", call([&] { return ::syscall(SYS_fchmodat, AT_FDCWD, f, 0700); }), 0);
        expect(r, "fchmodat2(06755)", call([&] { return ::syscall(452, AT_FDCWD, f, 06755, 0); }), EPERM);
        expect(r, "fchmod(04755)", call([&] {
                   long fd = ::syscall(SYS_openat, AT_FDCWD, f, O_RDONLY | O_CLOEXEC, 0);
                   long rc = fd < 0 ? fd : ::syscall(SYS_fchmod, fd, 04755);
                   const int saved = errno;
                   if (fd >= 0)
                       ::close(static_cast<int>(fd));
                   errno = saved;
                   return rc;
               }),
               EPERM);
        const std::string created = dir + "/created";
        expect(r, "openat(O_CREAT, 04755)",
               call([&] { return ::syscall(SYS_openat, AT_FDCWD, created.c_str(), O_CREAT | O_WRONLY, 04755); }),
               EPERM);
        expect(r, "creat(02755)", call([&] { return ::syscall(SYS_creat, created.c_str(), 02755); }), EPERM);
        expect(r, "mknod(S_IFREG | 04755)",
               call([&] { return ::syscall(SYS_mknod, created.c_str(), S_IFREG | 04755, 0); }), EPERM);
        expect(r, "openat(O_CREAT, 0644)", call([&] {
                   long fd = ::syscall(SYS_openat, AT_FDCWD, created.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                   if (fd >= 0)
                       ::close(static_cast<int>(fd));
                   return fd;
               }),
               0);
        expect(r, "openat2", call([&] { return ::syscall(SYS_openat2, AT_FDCWD, f, nullptr, 0); }), ENOSYS);
        return r;
    });
    EXPECT_EQ(report, "");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u) << "the twins' modes were applied, the set-ID ones were not";
    std::filesystem::remove_all(dir);
}

#if defined(__x86_64__)
// The 32-bit entry point (int 0x80) has its own syscall numbers: ptrace is 26, ioctl 54.
long int80(long nr, long a = 0, long b = 0, long c = 0) {
    long ret = 0;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}

TEST(SeccompEnforcement, DefaultPolicyHoldsOnThe32BitAndX32EntryPoints) {
    const Filter filter = default_filter();
    const std::string report = in_filtered_child(filter, [] {
        std::string r;
        auto check = [&r](const char *what, long got, long want) {
            if (got != want)
                r += std::string(what) + ": expected " + std::to_string(want) + ", got " +
                     std::to_string(got) + "\n";
        };
        check("i386 ptrace", int80(26, -1), -EPERM);
        check("i386 ioctl(TIOCSTI)", int80(54, -1, TIOCSTI), -EPERM);
        check("i386 ioctl(TIOCGWINSZ)", int80(54, -1, TIOCGWINSZ), -EBADF);  // the twin
        check("i386 unshare", int80(310, CLONE_NEWUSER), -EPERM);
        check("i386 clone3", int80(435, 0, 0), -ENOSYS);
        check("i386 getppid", int80(64) > 0 ? 1 : 0, 1);
        // i386 socket (359) and socketpair (360) take the family in a register...
        check("i386 socket(AF_VSOCK)", int80(359, AF_VSOCK, SOCK_STREAM), -EAFNOSUPPORT);
        const long fd = int80(359, AF_INET, SOCK_DGRAM);
        check("i386 socket(AF_INET)", fd >= 0 ? 0 : fd, 0);  // the twin
        if (fd >= 0)
            ::close(static_cast<int>(fd));
        check("i386 socketpair(AF_VSOCK)", int80(360, AF_VSOCK, SOCK_STREAM), -EAFNOSUPPORT);
        // ...socketcall in memory: SYS_SOCKET (1) and SYS_SOCKETPAIR (8) are denied whatever it
        // holds; its other calls pass (SYS_GETSOCKNAME (6) then faults on the unmapped args).
        check("i386 socketcall(SYS_SOCKET)", int80(102, 1, 1), -EAFNOSUPPORT);
        check("i386 socketcall(SYS_SOCKETPAIR)", int80(102, 8, 1), -EAFNOSUPPORT);
        check("i386 socketcall(SYS_GETSOCKNAME)", int80(102, 6, 1), -EFAULT);
        // x32 numbers carry bit 30; the filter answers before the kernel even checks that x32 is
        // enabled (Debian kernels disable it: ENOSYS is then the allowed twin's answer).
        const long x32 = 0x40000000;
        check("x32 ptrace", ::syscall(x32 + 521, -1, 0, 0, 0) == -1 ? errno : 0, EPERM);
        check("x32 ioctl(TIOCSTI)", ::syscall(x32 + 514, -1, TIOCSTI, 0) == -1 ? errno : 0, EPERM);
        check("x32 socket(AF_VSOCK)", ::syscall(x32 + 41, AF_VSOCK, SOCK_STREAM, 0) == -1 ? errno : 0, EAFNOSUPPORT);
        const int twin = ::syscall(x32 + 514, -1, TIOCGWINSZ, 0) == -1 ? errno : 0;
        if (twin != EBADF && twin != ENOSYS)
            r += "x32 ioctl(TIOCGWINSZ): expected EBADF or ENOSYS, got " + std::to_string(twin) + "\n";
        return r;
    });
    EXPECT_EQ(report, "");
}
#endif

TEST(SeccompEnforcement, TranslatedDockerProfileIsWhatTheKernelApplies) {
    const auto profile = boost::json::parse(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 1000, "op": "SCMP_CMP_EQ"}]}
        ]})");
    const Filter filter = profile_filter(profile, nullptr);
    const std::string report = in_filtered_child(filter, [] {
        std::string r;
        expect(r, "getppid", call([] { return ::syscall(SYS_getppid); }), ENOSYS);
        expect(r, "dup(1000)", call([] { return ::syscall(SYS_dup, 1000); }), EPERM);
        expect(r, "dup(1001)", call([] { return ::syscall(SYS_dup, 1001); }), EBADF);
        return r;
    });
    EXPECT_EQ(report, "");
}

}  // namespace
}  // namespace rustyolo::seccomp
