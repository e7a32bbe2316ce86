#include "plugins/net-common/filter_process.hpp"

#include <rustyolo/sdk/process.hpp>

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

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace rustyolo::net {
namespace {

[[noreturn]] void fail(const std::string &what, int error) {
    throw std::runtime_error(what + ": " + std::strerror(error));
}

// The filter's credentials, dropped in the child after the runner has put the descriptors in
// place, reset the signals and started a new session, and before it sets no_new_privs and
// execs. Raw system calls only: they change this (the only) thread without libc's cross-thread
// set-up broadcast, allocate nothing and are async-signal-safe. Returns the failed step's name
// with errno set, or nullptr.
const char *drop_credentials(uid_t uid, gid_t gid) {
    if (::syscall(SYS_setgroups, 0, nullptr) != 0)
        return "dropping supplementary groups";
    if (::syscall(SYS_setresgid, gid, gid, gid) != 0)
        return "setresgid";
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, caps) != 0)
        return "clearing inheritable capabilities";
    for (auto &word : caps)
        word.inheritable = 0;
    if (::syscall(SYS_capset, &header, caps) != 0)
        return "clearing inheritable capabilities";
    // Needs CAP_SETPCAP (so before setresuid); without it the bounding set stays, which
    // no_new_privs makes moot.
    for (int cap = 0; cap < 64; ++cap)
        ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return "clearing ambient capabilities";
    // Leaving uid 0 for good clears the permitted and effective sets (and execve as a non-root
    // uid without file capabilities gives none back).
    if (::syscall(SYS_setresuid, uid, uid, uid) != 0)
        return "setresuid";
    return nullptr;
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

    sdk::RunOptions options;
    options.argv.push_back(command.executable);
    options.argv.insert(options.argv.end(), command.arguments.begin(), command.arguments.end());
    options.env = std::vector<std::string>{};  // empty: nothing of the supervisor's leaks
    options.stdin_mode = sdk::Stdio::null;
    options.stdout_mode = sdk::Stdio::null;
    options.stderr_mode = sdk::Stdio::inherit;  // its messages go where the supervisor's go
    // Only these reach it: the runner closes every other descriptor (its report pipe, 7, is
    // close-on-exec).
    options.fds = {{filter_udp_fd, sockets.udp.get()},
                   {filter_tcp_fd, sockets.tcp.get()},
                   {filter_events_fd, events_write.get()},
                   {filter_ack_fd, acks_filter.get()}};
    // Its own session: a Ctrl-C meant for the agent never reaches the filter.
    options.new_session = true;
    const uid_t uid = command.uid;
    const gid_t gid = command.gid;
    options.child_setup = [uid, gid] { return drop_credentials(uid, gid); };
    options.no_new_privs = true;

    sdk::Child child;
    try {
        child = sdk::spawn(options);
    } catch (const sdk::ProcessError &e) {
        throw std::runtime_error("starting the DNS filter: " + std::string(e.what()));
    }
    FilterProcess process;
    process.pid = child.release();  // the supervisor reaps it (kill_filter, or at the session's end)
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
