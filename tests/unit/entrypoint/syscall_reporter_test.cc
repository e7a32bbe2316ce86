// The syscall audit with the real kernel: a forked child loads the seccomp plugin's reporting
// filter and hands the listener over exactly as the agent's process does
// (hand_over_syscall_reports); the SyscallReporter in this process answers and records. Each
// denied call must fail with the policy's errno (as without reporting) and give one record; its
// allowed twin must give none.
#include "entrypoint/syscall_reporter.hpp"

#include "plugins/seccomp/default_policy.hpp"
#include "plugins/seccomp/docker_profile.hpp"
#include "plugins/seccomp/notify.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace rustyolo::entrypoint {
namespace {

namespace json = boost::json;
using seccomp::ReportingFilter;

struct Records {
    std::mutex mutex;
    std::vector<json::object> list;
    SyscallReporter::Sink sink() {
        return [this](json::object details) {
            std::lock_guard lock(mutex);
            list.push_back(std::move(details));
        };
    }
    std::vector<json::object> take() {
        std::lock_guard lock(mutex);
        return list;
    }
};

struct ChildRun {
    std::string report;  // what the child's checks found wrong ("" when all held)
    int status = 0;
    pid_t pid = -1;
};

// Forks a child that loads `reporting` (as the plugin's install does), hands the listener over,
// then runs `checks`. The reporter (this process) runs until the child is gone.
ChildRun run_reported(const ReportingFilter &reporting, Records &records, const std::function<std::string()> &checks,
                      bool stop_before_checks = false) {
    int pair[2], out[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0 || ::pipe(out) != 0)
        return {"socketpair/pipe failed", -1, -1};
    // stop_before_checks: the child waits for this pipe to close before its checks.
    int gate[2];
    if (::pipe(gate) != 0)
        return {"pipe failed", -1, -1};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pair[0]);
        ::close(out[0]);
        ::close(gate[1]);
        std::string report;
        try {
            if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
                throw std::runtime_error("no_new_privs failed");
            reporting.filter->load();
            json::object result{{"notify", json::object{{"fd", reporting.filter->notify_fd()},
                                                        {"errnos", reporting.errnos},
                                                        {"silent", json::array{}}}}};
            hand_over_syscall_reports(result, pair[1]);
            ::close(pair[1]);
            char byte;
            while (::read(gate[0], &byte, 1) > 0) {
            }
            report = checks();
        } catch (const std::exception &e) {
            report = std::string("child: ") + e.what();
        }
        if (!report.empty() && ::write(out[1], report.data(), report.size()) < 0)
            ::_exit(2);
        ::_exit(0);
    }
    ::close(pair[1]);
    ::close(out[1]);
    ::close(gate[0]);
    ChildRun run;
    run.pid = pid;
    {
        SyscallReporter reporter{UniqueFd(pair[0]), pid, records.sink(), std::chrono::seconds(10)};
        if (stop_before_checks) {
            // Let the hand-over finish first: the reporter must hold the listener when it stops.
            for (int i = 0; i < 200 && ::fcntl(pair[0], F_GETFD) >= 0; ++i)
                ::usleep(10000);
            ::usleep(100000);
            reporter.stop();
        }
        ::close(gate[1]);
        char buf[4096];
        for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
            run.report.append(buf, static_cast<std::size_t>(n));
        ::close(out[0]);
        ::waitpid(pid, &run.status, 0);
    }  // the reporter stops: every record of the child has been given to the sink
    return run;
}

std::string expect_errno(const char *what, long result, int want) {
    const int got = result == -1 ? errno : 0;
    if (result == -1 && got == want)
        return "";
    return std::string(what) + ": expected " + std::strerror(want) + ", got " +
           (result == -1 ? std::strerror(got) : "success") + "\n";
}

std::vector<json::object> records_for(const std::vector<json::object> &all, const std::string &name) {
    std::vector<json::object> out;
    for (const auto &r : all)
        if (r.at("syscall").as_string() == name)
            out.push_back(r);
    return out;
}

TEST(SyscallReporter, DeniedCallGetsThePolicysErrnoAndExactlyOneRecord) {
    const ReportingFilter reporting = seccomp::reporting_filter(seccomp::default_filter());
    ASSERT_TRUE(reporting.filter) << reporting.warning;
    Records records;
    const ChildRun run = run_reported(reporting, records, [] {
        std::string r;
        r += expect_errno("keyctl", ::syscall(SYS_keyctl, -1, 0, 0, 0, 0), EPERM);
        r += expect_errno("clone3", ::syscall(SYS_clone3, nullptr, 0), ENOSYS);
        r += expect_errno("dup(-1), allowed", ::syscall(SYS_dup, -1), EBADF);
        r += expect_errno("ioctl(TIOCGWINSZ), allowed", ::syscall(SYS_ioctl, -1, 0x5413, nullptr), EBADF);
        return r;
    });
    EXPECT_EQ(run.report, "");
    ASSERT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) << run.status;
    const auto all = records.take();
    // keyctl is reported; clone3 gets its ENOSYS without a record (by design: libc tries it for
    // every thread); the allowed calls give none.
    ASSERT_EQ(all.size(), 1u) << json::serialize(json::value_from(all));
    const auto keyctl = records_for(all, "keyctl");
    ASSERT_EQ(keyctl.size(), 1u);
    EXPECT_EQ(keyctl[0].at("nr").as_int64(), SYS_keyctl);
    EXPECT_EQ(keyctl[0].at("arch").as_string(), "x86_64");
    EXPECT_EQ(keyctl[0].at("errno").as_int64(), EPERM);
    EXPECT_EQ(keyctl[0].at("pid").as_int64(), run.pid);
    EXPECT_EQ(keyctl[0].at("rule").as_string(), "default: always denied");
}

#if defined(__x86_64__)
long int80(long nr, long a = 0, long b = 0, long c = 0) {
    long ret = 0;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}

TEST(SyscallReporter, The32BitEntryPointIsReportedAsX86WithItsOwnNumber) {
    const ReportingFilter reporting = seccomp::reporting_filter(seccomp::default_filter());
    ASSERT_TRUE(reporting.filter) << reporting.warning;
    Records records;
    const ChildRun run = run_reported(reporting, records, [] {
        std::string r;
        if (long got = int80(26, -1); got != -EPERM)  // i386 ptrace
            r += "i386 ptrace: expected -EPERM, got " + std::to_string(got) + "\n";
        if (long got = int80(64); got <= 0)  // i386 getppid: allowed, no record
            r += "i386 getppid: expected a pid, got " + std::to_string(got) + "\n";
        return r;
    });
    EXPECT_EQ(run.report, "");
    const auto all = records.take();
    ASSERT_EQ(all.size(), 1u) << json::serialize(json::value_from(all));
    EXPECT_EQ(all[0].at("syscall").as_string(), "ptrace");
    EXPECT_EQ(all[0].at("arch").as_string(), "x86");
    EXPECT_EQ(all[0].at("nr").as_int64(), 26);
    EXPECT_EQ(all[0].at("errno").as_int64(), EPERM);
}

TEST(SyscallReporter, TheX32EntryPointIsReportedAsX32) {
    // x32 numbers carry bit 30; the kernel reports them under the x86_64 audit arch.
    const ReportingFilter reporting = seccomp::reporting_filter(seccomp::default_filter());
    ASSERT_TRUE(reporting.filter) << reporting.warning;
    Records records;
    const ChildRun run = run_reported(reporting, records, [] {
        return expect_errno("x32 ptrace", ::syscall(0x40000000 + 521, -1, 0, 0, 0), EPERM);
    });
    EXPECT_EQ(run.report, "");
    const auto all = records.take();
    ASSERT_EQ(all.size(), 1u) << json::serialize(json::value_from(all));
    EXPECT_EQ(all[0].at("syscall").as_string(), "ptrace");
    EXPECT_EQ(all[0].at("arch").as_string(), "x32");
    EXPECT_EQ(all[0].at("nr").as_int64(), 0x40000000 + 521);
}
#endif

TEST(SyscallReporter, ErrnoDefaultIsAnsweredPerSyscall) {
    // Docker's shape: default EPERM, clone3 ENOSYS, an allow list for what the child needs.
    const seccomp::Filter policy = seccomp::profile_filter(json::parse(R"({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "syscalls": [
            {"names": ["read", "write", "close", "brk", "mmap", "munmap", "mremap", "madvise", "sendmsg",
                       "exit_group", "exit", "dup", "futex", "rt_sigprocmask", "getpid", "gettid", "tgkill",
                       "rt_sigaction", "newfstatat", "fstat", "lseek", "getrandom"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
        ]})"),
                                                           nullptr);
    const ReportingFilter reporting = seccomp::reporting_filter(policy);
    ASSERT_TRUE(reporting.filter) << reporting.warning;
    Records records;
    const ChildRun run = run_reported(reporting, records, [] {
        std::string r;
        r += expect_errno("getppid (default)", ::syscall(SYS_getppid), EPERM);
        r += expect_errno("clone3", ::syscall(SYS_clone3, nullptr, 0), ENOSYS);
        r += expect_errno("dup(-1), allowed", ::syscall(SYS_dup, -1), EBADF);
        return r;
    });
    EXPECT_EQ(run.report, "");
    const auto all = records.take();
    const auto getppid = records_for(all, "getppid");
    ASSERT_EQ(getppid.size(), 1u) << json::serialize(json::value_from(all));
    EXPECT_EQ(getppid[0].at("errno").as_int64(), EPERM);
    EXPECT_EQ(getppid[0].at("rule").as_string(), "profile /defaultAction");
    EXPECT_EQ(records_for(all, "clone3").size(), 0u);  // ENOSYS, unreported by design
    EXPECT_EQ(records_for(all, "dup").size(), 0u);
}

TEST(SyscallReporter, WithTheReporterGoneTheKernelAnswersEnosysNeverHangs) {
    // The documented limit: a stopped reporter closes the listener; the call does not wait.
    const ReportingFilter reporting = seccomp::reporting_filter(seccomp::default_filter());
    ASSERT_TRUE(reporting.filter) << reporting.warning;
    Records records;
    const ChildRun run = run_reported(
        reporting, records, [] { return expect_errno("keyctl", ::syscall(SYS_keyctl, -1, 0, 0, 0, 0), ENOSYS); },
        true);
    EXPECT_EQ(run.report, "");
    EXPECT_TRUE(records.take().empty());
}

TEST(SyscallReporter, AChildThatNeverHandsOverIsEndedAfterTheTimeout) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pair[0]);
        ::pause();  // holds its end open without handing anything over
        ::_exit(0);
    }
    ::close(pair[1]);
    Records records;
    SyscallReporter reporter{UniqueFd(pair[0]), pid, records.sink(), std::chrono::milliseconds(300)};
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST(SyscallReporter, NoNotifyInTheInstallResultMeansNothingIsHandedOver) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    hand_over_syscall_reports(json::object{{"mode", "none"}, {"rules", 0}}, pair[1]);
    ::close(pair[1]);
    char byte;
    EXPECT_EQ(::read(pair[0], &byte, 1), 0);  // the end of the hand-over, nothing in it
    ::close(pair[0]);
}

TEST(SyscallReporter, AMalformedErrnoTableIsRefusedBeforeTheHandOver) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    const json::object result{
        {"notify", json::object{{"fd", ::dup(pair[1])}, {"errnos", json::object{{"default", "EPERM"}}}}}};
    EXPECT_THROW(hand_over_syscall_reports(result, pair[1]), std::runtime_error);
    ::close(pair[1]);
    ::close(pair[0]);
}

TEST(SyscallErrnos, SyscallEntryFirstThenTheDefault) {
    const auto table = SyscallErrnos::parse(json::parse(
        R"({"default": {"errno": 1, "rule": "d"}, "syscalls": {"clone3": {"errno": 38, "rule": "c"}}})"));
    ASSERT_TRUE(table.find("clone3"));
    EXPECT_EQ(table.find("clone3")->error, 38);
    ASSERT_TRUE(table.find("mount"));
    EXPECT_EQ(table.find("mount")->error, 1);
    EXPECT_EQ(table.find("mount")->rule, "d");
    const auto no_default = SyscallErrnos::parse(json::parse(R"({"default": null, "syscalls": {}})"));
    EXPECT_EQ(no_default.find("mount"), nullptr);
    EXPECT_THROW(SyscallErrnos::parse(json::parse(R"({"syscalls": {"x": {"errno": -1}}})")), std::runtime_error);
}

// The table is read strictly: a wrong type is an error naming its path, never silently dropped.
TEST(SyscallErrnos, AWrongTypeIsAnErrorNamingItsPath) {
    auto message = [](const char *text) {
        try {
            SyscallErrnos::parse(json::parse(text));
        } catch (const std::runtime_error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message(R"({"syscalls": {"mount": {"errno": 1, "rule": 7}}})"),
              "syscall errno table: /syscalls/mount/rule: expected a string");
    EXPECT_EQ(message(R"({"default": {"rule": "d"}})"), "syscall errno table: /default/errno: missing");
    EXPECT_EQ(message(R"({"syscalls": []})"), "syscall errno table: /syscalls: expected an object");
    EXPECT_EQ(message(R"([])"), "syscall errno table: /: expected an object");
}

}  // namespace
}  // namespace rustyolo::entrypoint
