#include "plugins/net-iptables/run_program.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rustyolo::ipt {
namespace {

struct Pipe {
    UniqueFd read, write;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

ProgramResult run_program(const std::vector<std::string> &argv, const std::string &input) {
    if (argv.empty() || argv[0].empty() || argv[0].front() != '/')
        throw std::runtime_error("run_program: the program must be an absolute path");
    if (::access(argv[0].c_str(), X_OK) != 0)
        throw std::runtime_error(argv[0] + ": " + std::strerror(errno));
    Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
    std::vector<std::string> strings = argv;
    std::vector<char *> args;
    for (std::string &s : strings)
        args.push_back(s.data());
    args.push_back(nullptr);
    char *envp[] = {const_cast<char *>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nullptr};

    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        if (::dup2(in.read.get(), 0) < 0 || ::dup2(out.write.get(), 1) < 0 || ::dup2(err.write.get(), 2) < 0)
            ::_exit(126);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(args[0], args.data(), envp);
        ::_exit(127);
    }
    in.read.reset();
    out.write.reset();
    err.write.reset();

    ProgramResult result;
    std::size_t written = 0;
    if (input.empty())
        in.write.reset();
    char buffer[8192];
    while (out.read || err.read) {
        pollfd fds[3];
        nfds_t n = 0;
        int which[3];
        if (in.write) {
            fds[n] = {in.write.get(), POLLOUT, 0};
            which[n++] = 0;
        }
        if (out.read) {
            fds[n] = {out.read.get(), POLLIN, 0};
            which[n++] = 1;
        }
        if (err.read) {
            fds[n] = {err.read.get(), POLLIN, 0};
            which[n++] = 2;
        }
        int ready = ::poll(fds, n, 30000);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {  // hung for 30 s, or poll failed: give up on it
            ::kill(pid, SIGKILL);
            break;
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (!fds[i].revents)
                continue;
            if (which[i] == 0) {
                ssize_t w = ::write(in.write.get(), input.data() + written, input.size() - written);
                if (w > 0)
                    written += static_cast<std::size_t>(w);
                if (w < 0 || written == input.size())
                    in.write.reset();
            } else {
                UniqueFd &fd = which[i] == 1 ? out.read : err.read;
                ssize_t r = ::read(fd.get(), buffer, sizeof buffer);
                if (r <= 0)
                    fd.reset();
                else
                    (which[i] == 1 ? result.out : result.err).append(buffer, static_cast<std::size_t>(r));
            }
        }
    }
    in.write.reset();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace rustyolo::ipt
