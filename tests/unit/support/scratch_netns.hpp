// Runs a test body in a child process inside a new, empty network namespace, so that a test can
// load real nftables rules and bind NFLOG groups without touching the host's. Needs root (the
// unit tests skip such cases otherwise).
#pragma once

#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace rustyolo::test_support {

// Reads `fd` to its end and closes it.
inline std::string read_to_end(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

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
    std::string result = read_to_end(fds[0]);
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

// In a forked child: replaces it with the program (argv, PATH lookup), or exits with 127.
[[noreturn]] inline void exec_argv(const std::vector<std::string> &argv) {
    std::vector<char *> args;
    for (const std::string &arg : argv)
        args.push_back(const_cast<char *>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
}

// In a forked child with `uid`/`gid`: `body` returns 0 or an errno, which comes back.
inline int as_user(std::uint32_t uid, std::uint32_t gid, const std::function<int()> &body) {
    int fds[2];
    if (::pipe(fds) != 0)
        return -1;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        int result = ::setgroups(0, nullptr) == 0 && ::setresgid(gid, gid, gid) == 0 && ::setresuid(uid, uid, uid) == 0
                         ? body()
                         : -2;
        ssize_t ignored = ::write(fds[1], &result, sizeof result);
        (void)ignored;
        ::_exit(0);
    }
    ::close(fds[1]);
    int result = -3;
    if (::read(fds[0], &result, sizeof result) != static_cast<ssize_t>(sizeof result))
        result = -3;
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    return result;
}

// Runs a program (argv, PATH lookup) and waits: its exit status, or -1.
inline int run_program(const std::vector<std::string> &argv) {
    pid_t pid = ::fork();
    if (pid == 0) {
        exec_argv(argv);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

// Runs a program (argv, PATH lookup) and returns what it wrote to stdout ("" if it could not start).
inline std::string program_output(const std::vector<std::string> &argv) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        exec_argv(argv);
    }
    ::close(fds[1]);
    std::string out = read_to_end(fds[0]);
    ::waitpid(pid, nullptr, 0);
    return out;
}

}  // namespace rustyolo::test_support
