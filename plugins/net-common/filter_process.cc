#include "plugins/net-common/filter_process.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace rustyolo::net {
namespace {

[[noreturn]] void fail(const std::string &what, int error) {
    throw std::runtime_error(what + ": " + std::strerror(error));
}

// Steps of the child's set-up, for the error message.
enum Step : int {
    step_fds = 1,
    step_close,
    step_session,
    step_groups,
    step_gid,
    step_inheritable,
    step_ambient,
    step_uid,
    step_no_new_privs,
    step_signals,
    step_exec,
};

const char *step_name(int step) {
    switch (step) {
    case step_fds: return "arranging its file descriptors";
    case step_close: return "closing inherited file descriptors";
    case step_session: return "setsid";
    case step_groups: return "dropping supplementary groups";
    case step_gid: return "setresgid";
    case step_inheritable: return "clearing inheritable capabilities";
    case step_ambient: return "clearing ambient capabilities";
    case step_uid: return "setresuid";
    case step_no_new_privs: return "setting no_new_privs";
    case step_signals: return "resetting the signal mask";
    case step_exec: return "execve";
    default: return "an unknown step";
    }
}

// In the child: report the failed step and errno, then exit. Async-signal-safe.
[[noreturn]] void child_fail(int status_fd, int step) {
    int report[2] = {step, errno};
    ssize_t ignored = ::write(status_fd, report, sizeof report);
    (void)ignored;
    ::_exit(127);
}

// Duplicates `fd` to a number >= 10, close-on-exec, so that the child's dup2 onto 0..7 never
// overwrites a source it still needs.
UniqueFd high(int fd, const char *what) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (copy < 0)
        fail(std::string("duplicating ") + what, errno);
    return UniqueFd(copy);
}

}  // namespace

StubSockets bind_stub_sockets() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(53);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    StubSockets sockets;
    sockets.udp.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sockets.udp)
        fail("DNS stub: UDP socket", errno);
    if (::bind(sockets.udp.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
        fail("DNS stub: binding UDP 127.0.0.1:53 (needs CAP_NET_BIND_SERVICE; is another resolver running?)", errno);
    sockets.tcp.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sockets.tcp)
        fail("DNS stub: TCP socket", errno);
    int one = 1;
    if (::setsockopt(sockets.tcp.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        fail("DNS stub: SO_REUSEADDR", errno);
    if (::bind(sockets.tcp.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
        fail("DNS stub: binding TCP 127.0.0.1:53", errno);
    if (::listen(sockets.tcp.get(), 128) != 0)
        fail("DNS stub: listen on TCP 127.0.0.1:53", errno);
    return sockets;
}

FilterProcess start_filter(const FilterCommand &command, const StubSockets &sockets) {
    if (command.executable.empty() || command.executable.front() != '/')
        throw std::runtime_error("the DNS filter's path \"" + command.executable + "\" is not absolute");
    if (command.uid == 0 || command.gid == 0)
        throw std::runtime_error("the DNS filter must not run as root");
    if (::access(command.executable.c_str(), X_OK) != 0)
        fail("the DNS filter " + command.executable, errno);

    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull)
        fail("opening /dev/null", errno);
    int events[2];
    if (::pipe2(events, O_CLOEXEC) != 0)
        fail("the DNS filter's events pipe", errno);
    UniqueFd events_read(events[0]), events_write(events[1]);
    int acks[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, acks) != 0)
        fail("the DNS filter's ack socket", errno);
    UniqueFd acks_supervisor(acks[0]), acks_filter(acks[1]);
    ::shutdown(acks_supervisor.get(), SHUT_RD);
    ::shutdown(acks_filter.get(), SHUT_WR);
    int status[2];
    if (::pipe2(status, O_CLOEXEC) != 0)
        fail("the DNS filter's start-up pipe", errno);
    UniqueFd status_read(status[0]), status_write(status[1]);

    // Everything the child needs, prepared before fork (no allocation after it).
    UniqueFd c_null = high(devnull.get(), "/dev/null"), c_udp = high(sockets.udp.get(), "the UDP socket"),
             c_tcp = high(sockets.tcp.get(), "the TCP socket"), c_events = high(events_write.get(), "the events pipe"),
             c_acks = high(acks_filter.get(), "the ack socket"), c_status = high(status_write.get(), "the start-up pipe");
    std::vector<std::string> strings;
    strings.push_back(command.executable);
    strings.insert(strings.end(), command.arguments.begin(), command.arguments.end());
    std::vector<char *> argv;
    for (std::string &s : strings)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    char *envp[] = {nullptr};
    const uid_t uid = command.uid;
    const gid_t gid = command.gid;

    pid_t pid = ::fork();
    if (pid < 0)
        fail("fork for the DNS filter", errno);
    if (pid == 0) {
        const int report = c_status.get();
        if (::dup2(c_null.get(), 0) < 0 || ::dup2(c_null.get(), 1) < 0 || ::dup2(c_udp.get(), filter_udp_fd) < 0 ||
            ::dup2(c_tcp.get(), filter_tcp_fd) < 0 || ::dup2(c_events.get(), filter_events_fd) < 0 ||
            ::dup2(c_acks.get(), filter_ack_fd) < 0 || ::dup2(report, 7) < 0 || ::fcntl(7, F_SETFD, FD_CLOEXEC) < 0)
            child_fail(report, step_fds);
        if (::syscall(SYS_close_range, 8u, ~0u, 0u) != 0) {
            if (errno != ENOSYS)
                child_fail(7, step_close);
            for (int fd = 8; fd < 65536; ++fd)
                ::close(fd);
        }
        sigset_t none;
        sigemptyset(&none);
        if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
            child_fail(7, step_signals);
        // Its own session: a Ctrl-C meant for the agent never reaches the filter.
        if (::setsid() < 0)
            child_fail(7, step_session);
        // Raw system calls: they change this (the only) thread, without libc's cross-thread logic.
        if (::syscall(SYS_setgroups, 0, nullptr) != 0)
            child_fail(7, step_groups);
        if (::syscall(SYS_setresgid, gid, gid, gid) != 0)
            child_fail(7, step_gid);
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
        if (::syscall(SYS_capget, &header, caps) != 0)
            child_fail(7, step_inheritable);
        for (auto &word : caps)
            word.inheritable = 0;
        if (::syscall(SYS_capset, &header, caps) != 0)
            child_fail(7, step_inheritable);
        // Needs CAP_SETPCAP; without it the bounding set stays, which no_new_privs makes moot.
        for (int cap = 0; cap < 64; ++cap)
            ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
            child_fail(7, step_ambient);
        // Leaving uid 0 for good clears the permitted and effective sets.
        if (::syscall(SYS_setresuid, uid, uid, uid) != 0)
            child_fail(7, step_uid);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            child_fail(7, step_no_new_privs);
        ::execve(argv[0], argv.data(), envp);
        child_fail(7, step_exec);
    }

    // Parent: the child's ends go; wait for exec (EOF) or a failure report.
    c_null.reset();
    c_udp.reset();
    c_tcp.reset();
    c_events.reset();
    c_acks.reset();
    c_status.reset();
    events_write.reset();
    acks_filter.reset();
    status_write.reset();
    int report[2] = {0, 0};
    ssize_t n;
    do {
        n = ::read(status_read.get(), report, sizeof report);
    } while (n < 0 && errno == EINTR);
    if (n != 0) {
        kill_filter(pid);
        if (n == static_cast<ssize_t>(sizeof report))
            fail("starting the DNS filter " + command.executable + ": " + step_name(report[0]), report[1]);
        throw std::runtime_error("starting the DNS filter " + command.executable + ": no report from the child");
    }
    FilterProcess process;
    process.pid = pid;
    process.events = std::move(events_read);
    process.acks = std::move(acks_supervisor);
    return process;
}

std::string default_dns_filter_path() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void *>(&default_dns_filter_path), &info) == 0 || !info.dli_fname)
        throw std::runtime_error("cannot find where the network plugin was loaded from (dladdr)");
    std::filesystem::path plugin = std::filesystem::absolute(info.dli_fname);
    return (plugin.parent_path().parent_path() / "rustyolo-dns-filter").string();
}

void kill_filter(pid_t pid) {
    if (pid <= 0)
        return;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace rustyolo::net
