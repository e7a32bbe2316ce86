#include "core/host/process.hpp"

#include "core/error.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

extern char **environ;

namespace rustyolo {

namespace {

std::atomic<pid_t> g_forward_to{0};

// Forwards a signal that a process sent to us (kill(2): SI_USER/SI_QUEUE). Signals the terminal
// driver generates (Ctrl-C, window size: SI_KERNEL) reach the child directly because it is in our
// foreground process group; forwarding those too would deliver them twice.
void forward_signal(int sig, siginfo_t *info, void *) {
    if (info && info->si_code == SI_KERNEL)
        return;
    pid_t pid = g_forward_to.load();
    if (pid > 0)
        ::kill(pid, sig);
}

std::vector<char *> c_argv(const std::vector<std::string> &argv) {
    std::vector<char *> out;
    out.reserve(argv.size() + 1);
    for (const auto &a : argv)
        out.push_back(const_cast<char *>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw Error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    return decode_status(status);
}

// Builds the environment for the child: ours plus `extra` (which wins).
std::vector<std::string> child_environment(const std::vector<std::string> &extra) {
    std::vector<std::string> env;
    for (char **e = environ; e && *e; ++e) {
        std::string entry(*e);
        std::string name = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto &x : extra)
            if (x.substr(0, x.find('=')) == name)
                replaced = true;
        if (!replaced)
            env.push_back(std::move(entry));
    }
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
}

}  // namespace

int run_foreground(const std::vector<std::string> &argv, const ProcessOptions &options) {
    if (argv.empty())
        throw Error("internal error: empty command");
    std::vector<std::string> env = child_environment(options.extra_env);
    auto c_env = c_argv(env);
    auto args = c_argv(argv);

    constexpr std::array<int, 5> forwarded{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
    std::array<struct sigaction, forwarded.size()> previous{};
    if (options.forward_signals) {
        struct sigaction sa {};
        sa.sa_sigaction = forward_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | SA_SIGINFO;
        for (std::size_t i = 0; i < forwarded.size(); ++i)
            ::sigaction(forwarded[i], &sa, &previous[i]);
    }

    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0)
        throw Error(std::string("cannot start ") + argv[0] + ": fork failed: " + std::strerror(errno));
    if (pid == 0) {
        // Child: restore default dispositions, die with the parent, exec.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig : forwarded)
            ::sigaction(sig, &dfl, nullptr);
        if (options.forward_signals) {
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != parent)
                ::_exit(128 + SIGTERM);
        }
        ::execvpe(args[0], args.data(), c_env.data());
        int err = errno;
        std::string msg = std::string("rustyolo: cannot run ") + argv[0] + ": " + std::strerror(err) +
                          (err == ENOENT ? " (is it installed and on PATH?)" : "") + "\n";
        [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
        ::_exit(127);
    }
    g_forward_to.store(pid);
    int result = wait_for(pid);
    g_forward_to.store(0);
    if (options.forward_signals)
        for (std::size_t i = 0; i < forwarded.size(); ++i)
            ::sigaction(forwarded[i], &previous[i], nullptr);
    return result;
}

Captured run_capture(const std::vector<std::string> &argv) {
    if (argv.empty())
        throw Error("internal error: empty command");
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
        throw Error(std::string("pipe failed: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    auto args = c_argv(argv);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw Error(std::string("cannot run ") + argv[0] + ": " + std::strerror(rc) +
                    (rc == ENOENT ? " (is it installed and on PATH?)" : ""));
    }
    Captured result;
    std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
    std::array<std::string *, 2> sinks{&result.out, &result.err};
    int open_fds = 2;
    char buf[8192];
    while (open_fds > 0) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    result.status = wait_for(pid);
    return result;
}

}  // namespace rustyolo
