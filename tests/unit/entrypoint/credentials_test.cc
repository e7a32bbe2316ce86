// drop_privileges for real, in a forked child: needs root with CAP_SETUID, CAP_SETGID and
// CAP_SETPCAP (CI runs as root); skipped with the reason otherwise.
#include "entrypoint/credentials.hpp"

#include <gtest/gtest.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
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
std::string status_after_drop(uid_t uid, gid_t gid) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "error: pipe";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        try {
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

TEST(Credentials, RefuseRoot) {
    EXPECT_THROW(drop_privileges(0, 1000), std::runtime_error);
    EXPECT_THROW(drop_privileges(1000, 0), std::runtime_error);
}

}  // namespace
}  // namespace rustyolo::entrypoint
