// drop_privileges for real, in a forked child: needs root with CAP_SETUID, CAP_SETGID and
// CAP_SETPCAP (CI runs as root); skipped with the reason otherwise.
#include "entrypoint/credentials.hpp"

#include <gtest/gtest.h>

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rustyolo::entrypoint {
namespace {

bool has_capability(int cap) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0)
        return false;
    return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

// The child's /proc/self/status lines after drop_privileges, or "error: ..." from it.
// `prepare` runs in the child first: it puts the process in a state drop_privileges must undo.
std::string status_after_drop(uid_t uid, gid_t gid, void (*prepare)() = nullptr) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "error: pipe";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        try {
            if (prepare)
                prepare();
            drop_privileges(uid, gid);
            std::ifstream in("/proc/self/status");
            std::stringstream s;
            s << in.rdbuf();
            out = s.str();
        } catch (const std::exception &e) {
            out = std::string("error: ") + e.what();
        }
        [[maybe_unused]] auto n = ::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    return out;
}

std::map<std::string, std::string> fields(const std::string &status) {
    std::map<std::string, std::string> out;
    std::istringstream in(status);
    for (std::string line; std::getline(in, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        out[line.substr(0, colon)] = value;
    }
    return out;
}

TEST(Credentials, LeaveTheAgentsUidWithNoCapabilityAnywhereAndNoNewPrivs) {
    if (::geteuid() != 0 || !has_capability(CAP_SETPCAP) || !has_capability(CAP_SETUID))
        GTEST_SKIP() << "needs root with CAP_SETUID, CAP_SETGID and CAP_SETPCAP";
    const std::string status = status_after_drop(1000, 1001);
    ASSERT_EQ(status.rfind("error", 0), std::string::npos) << status;
    auto f = fields(status);
    EXPECT_EQ(f["Uid"], "1000\t1000\t1000\t1000");
    EXPECT_EQ(f["Gid"], "1001\t1001\t1001\t1001");
    EXPECT_EQ(f["Groups"], "");
    for (const char *set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
        EXPECT_EQ(f[set], "0000000000000000") << set;
    EXPECT_EQ(f["NoNewPrivs"], "1");
}

// A runtime or an image could start the supervisor with capabilities kept across the uid change
// (keep-caps, no setuid fixup) and some in the inheritable and ambient sets, which survive execve:
// every set still ends empty.
TEST(Credentials, NothingSurvivesKeepCapsNoFixupInheritableOrAmbient) {
    if (::geteuid() != 0 || !has_capability(CAP_SETPCAP) || !has_capability(CAP_SETUID))
        GTEST_SKIP() << "needs root with CAP_SETUID, CAP_SETGID and CAP_SETPCAP";
    const std::string status = status_after_drop(1000, 1001, [] {
        if (::prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) != 0)
            throw std::runtime_error("prepare: PR_SET_SECUREBITS");
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
        if (::syscall(SYS_capget, &header, data) != 0)
            throw std::runtime_error("prepare: capget");
        data[0].inheritable = data[0].permitted;
        data[1].inheritable = data[1].permitted;
        if (::syscall(SYS_capset, &header, data) != 0)
            throw std::runtime_error("prepare: capset");
        for (int cap : {CAP_NET_RAW, CAP_SYS_ADMIN, CAP_SETUID})
            if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
                throw std::runtime_error("prepare: PR_CAP_AMBIENT_RAISE");
    });
    ASSERT_EQ(status.rfind("error", 0), std::string::npos) << status;
    auto f = fields(status);
    EXPECT_EQ(f["Uid"], "1000\t1000\t1000\t1000");
    for (const char *set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
        EXPECT_EQ(f[set], "0000000000000000") << set;
    EXPECT_EQ(f["NoNewPrivs"], "1");
}

TEST(Credentials, RefuseRoot) {
    EXPECT_THROW(drop_privileges(0, 1000), std::runtime_error);
    EXPECT_THROW(drop_privileges(1000, 0), std::runtime_error);
}

}  // namespace
}  // namespace rustyolo::entrypoint
