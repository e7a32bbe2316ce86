// Runs a test body in a child process inside a new, empty network namespace, so that a test can
// load real nftables rules and bind NFLOG groups without touching the host's. Needs root (the
// unit tests skip such cases otherwise).
#pragma once

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <string>

namespace rustyolo::test_support {

// Runs `body` in a forked child after unshare(`flags`) (e.g. CLONE_NEWNET, CLONE_NEWNS). Returns ""
// on success or what went wrong (the body's result, or the exception it threw).
inline std::string in_unshared_child(int flags, const std::function<std::string()> &body) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "pipe failed";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string result;
        try {
            result = ::unshare(flags) == 0 ? body() : "unshare failed: " + std::string(std::strerror(errno));
        } catch (const std::exception &e) {
            result = e.what();
        }
        ssize_t ignored = ::write(fds[1], result.data(), result.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string result;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
        result.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    return result;
}

// Runs `body` in a forked child inside a new, empty network namespace.
inline std::string in_scratch_netns(const std::function<std::string()> &body) {
    return in_unshared_child(CLONE_NEWNET, body);
}

// Brings the loopback interface of the current (scratch) namespace up; false on failure.
inline bool loopback_up() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
    ::close(fd);
    return ok;
}

}  // namespace rustyolo::test_support
