// Starting the DNS filter: the child's descriptors, credentials, capabilities, session and
// environment, seen from inside the started program (/bin/sh with a fixed script standing in
// for rustyolo-dns-filter, reporting over the events pipe, fd 5). Needs root (the suite runs as
// root in the build container); skipped otherwise.
#include "plugins/net-common/filter_process.hpp"

#include <rustyolo/sdk/read_all.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rustyolo::net {
namespace {

constexpr std::uint32_t filter_id = 65533;

StubSockets unbound_sockets() {
    StubSockets sockets;
    sockets.udp.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockets.tcp.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return sockets;
}


bool can_change_credentials() {
    return ::geteuid() == 0 && ::access("/bin/sh", X_OK) == 0;
}

// This thread's capability sets (version 3), to set and restore around a start.
struct Caps {
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
};

Caps get_caps() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    Caps caps;
    if (::syscall(SYS_capget, &header, caps.data) != 0)
        throw std::runtime_error(std::string("capget: ") + std::strerror(errno));
    return caps;
}

void set_caps(Caps caps) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    if (::syscall(SYS_capset, &header, caps.data) != 0)
        throw std::runtime_error(std::string("capset: ") + std::strerror(errno));
}

TEST(FilterProcess, RefusesARelativePathAndRoot) {
    StubSockets sockets = unbound_sockets();
    EXPECT_THROW(start_filter(FilterCommand{"bin/sh", {}, filter_id, filter_id}, sockets), std::runtime_error);
    EXPECT_THROW(start_filter(FilterCommand{"/bin/sh", {}, 0, filter_id}, sockets), std::runtime_error);
    EXPECT_THROW(start_filter(FilterCommand{"/bin/sh", {}, filter_id, 0}, sockets), std::runtime_error);
}

TEST(FilterProcess, RunsWithoutPrivilegesAndWithOnlyItsDescriptors) {
    if (!can_change_credentials())
        GTEST_SKIP() << "needs root to start a program as uid " << filter_id;
    StubSockets sockets = unbound_sockets();
    // An inherited descriptor without close-on-exec: the filter must not get it.
    UniqueFd leaked(::fcntl(sockets.udp.get(), F_DUPFD, 40));
    ASSERT_TRUE(leaked);
    // An inheritable capability in the supervisor: the filter must not get it.
    const Caps saved = get_caps();
    Caps with_inheritable = saved;
    with_inheritable.data[0].inheritable |= 1u << CAP_NET_BIND_SERVICE;
    ASSERT_NO_THROW(set_caps(with_inheritable));
    const bool setpcap = (saved.data[0].effective & (1u << CAP_SETPCAP)) != 0;
    // And a supplementary group: the filter must have none.
    std::vector<gid_t> saved_groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
    ASSERT_EQ(::getgroups(static_cast<int>(saved_groups.size()), saved_groups.data()),
              static_cast<int>(saved_groups.size()));
    const gid_t extra_group = 4242;
    ASSERT_EQ(::setgroups(1, &extra_group), 0) << std::strerror(errno);
    auto restore = [&] {
        set_caps(saved);
        ASSERT_EQ(::setgroups(saved_groups.size(), saved_groups.data()), 0) << std::strerror(errno);
    };

    // Reports on fd 5, then waits for the ack socket (fd 6) to close: it must outlive start_filter.
    const std::string script =
        "i=$(readlink /proc/$$/fd/0); o=$(readlink /proc/$$/fd/1); "
        "for fd in $(seq 0 80); do [ -e /proc/self/fd/$fd ] && echo \"fd $fd\" >&5; done; "
        "exec >&5; echo \"stdin $i\"; echo \"stdout $o\"; "
        "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs):' /proc/$$/status | tr '\\t' ' '; "
        "echo \"environ $(tr '\\0' '\\n' < /proc/$$/environ | wc -c)\"; "
        "[ \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ ] && echo 'session own'; "
        "echo end; exec >/dev/null 5>&-; read x <&6; exit 0";
    FilterProcess process;
    try {
        process = start_filter(FilterCommand{"/bin/sh", {"-c", script}, filter_id, filter_id}, sockets);
    } catch (...) {
        restore();
        throw;
    }
    restore();
    ASSERT_GT(process.pid, 0);
    const std::string report = read_all(process.events.get(), 1 << 20).content.value_or("");
    EXPECT_EQ(::kill(process.pid, 0), 0) << "the filter did not outlive start_filter";
    process.acks.reset();
    int status = 0;
    ASSERT_EQ(::waitpid(process.pid, &status, 0), process.pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    std::map<std::string, std::string> fields;
    std::string fds;
    std::istringstream lines(report);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("fd ", 0) == 0) {
            fds += line.substr(3) + " ";
            continue;
        }
        const std::size_t split = line.find_first_of(": ");
        std::string value = line.substr(split + 1);
        value.erase(0, value.find_first_not_of(' '));
        value.erase(value.find_last_not_of(' ') + 1);
        fields[line.substr(0, split)] = value;
    }
    EXPECT_EQ(fds, "0 1 2 3 4 5 6 ") << report;
    const std::string id = std::to_string(filter_id);
    EXPECT_EQ(fields["Uid"], id + " " + id + " " + id + " " + id) << report;
    EXPECT_EQ(fields["Gid"], id + " " + id + " " + id + " " + id) << report;
    EXPECT_EQ(fields["Groups"], "") << report;
    for (const char *set : {"CapInh", "CapPrm", "CapEff", "CapAmb"})
        EXPECT_EQ(fields[set], "0000000000000000") << set << "\n" << report;
    if (setpcap) {
        EXPECT_EQ(fields["CapBnd"], "0000000000000000") << report;
    }
    EXPECT_EQ(fields["NoNewPrivs"], "1") << report;
    EXPECT_EQ(fields["stdin"], "/dev/null") << report;
    EXPECT_EQ(fields["stdout"], "/dev/null") << report;
    EXPECT_EQ(fields["environ"], "0") << report;
    EXPECT_EQ(fields["session"], "own") << report;
    EXPECT_EQ(fields.count("end"), 1u) << report;
}

TEST(FilterProcess, AFailedStartNamesTheStepAndErrno) {
    if (!can_change_credentials())
        GTEST_SKIP() << "needs root to start a program as uid " << filter_id;
    // Executable for everyone, but no program: execve fails with ENOEXEC after the credentials
    // were dropped.
    char path[] = "/tmp/rustyolo-filter-test-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "\x01\x02\x03\x04", 4), 4);
    ::close(fd);
    ASSERT_EQ(::chmod(path, 0755), 0);
    StubSockets sockets = unbound_sockets();
    try {
        FilterProcess process = start_filter(FilterCommand{path, {}, filter_id, filter_id}, sockets);
        kill_filter(process.pid);
        ADD_FAILURE() << "no error";
    } catch (const std::runtime_error &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("DNS filter"), std::string::npos) << message;
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("execve"), std::string::npos) << message;
        EXPECT_NE(message.find(std::strerror(ENOEXEC)), std::string::npos) << message;
    }
    ::unlink(path);
}

}  // namespace
}  // namespace rustyolo::net
