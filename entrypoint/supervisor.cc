#include "entrypoint/supervisor.hpp"

#include "entrypoint/signals.hpp"

#include <rustyolo/sdk/process.hpp>

#include <spdlog/spdlog.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace rustyolo::entrypoint {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kGracePeriod = std::chrono::seconds(2);

// Reaps every child that has exited. Returns true when one of them was the agent.
bool reap(pid_t agent, int &agent_status) {
    bool agent_done = false;
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return agent_done;
        if (pid == agent) {
            agent_status = status;
            agent_done = true;
        } else {
            spdlog::debug("reaped process {} ({})", pid, sdk::ExitStatus::from_wait(status).describe());
        }
    }
}

// kill(2), with one warning when the supervisor lacks the right to signal the agent's uid.
// Returns false on EPERM.
bool send(pid_t target, int sig) {
    if (::kill(target, sig) == 0 || errno != EPERM)
        return true;
    static bool warned = false;
    if (!warned)
        spdlog::warn("cannot send SIG{} to the agent's processes: {} (the supervisor needs CAP_KILL)",
                     ::sigabbrev_np(sig), std::strerror(errno));
    warned = true;
    return false;
}

void forward(pid_t agent, int sig) {
    // The agent's process group, so its children get it too, as from a terminal. Before the
    // child's setsid() there is no such group yet: then the child itself.
    if (::kill(-agent, sig) != 0)
        send(errno == ESRCH ? agent : -agent, sig);
}

// Waits up to `timeout` for a SIGCHLD (taken from the queue: the caller reaps afterwards).
void wait_a_little(std::chrono::milliseconds timeout) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec ts{
        static_cast<time_t>(secs.count()),
        static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout - secs).count())};
    ::sigtimedwait(&set, nullptr, &ts);
}

bool read_file(const std::string &path, std::string &text) {
    std::ifstream in(path);
    if (!in)
        return false;
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
    return true;
}

struct ProcInfo {
    char state = '?';
    long session = -1;
    long uid = -1;
};

bool proc_info(pid_t pid, ProcInfo &info) {
    std::string stat, status;
    const std::string dir = "/proc/" + std::to_string(pid);
    if (!read_file(dir + "/stat", stat) || !read_file(dir + "/status", status))
        return false;
    // "pid (comm) state ppid pgrp session ...": comm may contain anything, so parse after the last ')'.
    const auto close = stat.rfind(')');
    if (close == std::string::npos)
        return false;
    std::istringstream fields(stat.substr(close + 1));
    long ppid = 0, pgrp = 0;
    if (!(fields >> info.state >> ppid >> pgrp >> info.session))
        return false;
    const auto uid_line = status.find("\nUid:");
    if (uid_line == std::string::npos)
        return false;
    std::istringstream uids(status.substr(uid_line + 5));
    return static_cast<bool>(uids >> info.uid);
}

// Returns false when no process could be signalled for lack of permission.
bool signal_all(const std::vector<pid_t> &pids, int sig) {
    bool any = pids.empty();
    for (pid_t pid : pids)
        any = send(pid, sig) || any;
    return any;
}

// PID 1 only: ends every other process of the container and reaps until none is left. kill(-1)
// from PID 1 reaches every process of its PID namespace but itself; every process of the
// namespace that the agent can have made descends from PID 1 (orphans re-parent to it), so when
// waitpid() says ECHILD, no process of the agent exists any more: nothing it left behind can
// send a packet, make a syscall or query DNS after this returns. The kill is repeated on every
// round, so a process forked while a round ran is killed by the next. The supervisor's own helper
// (the DNS filter, uid 65533) ends here too: its reports are already in its events pipe, which
// the firewall plugin reads to the end before the final accounting (net-nftables ~NetNftables).
// Gives up (with an error) only when the processes do not die within kEndTimeout (uninterruptible
// sleep) or cannot be signalled: then the accounting is not provably final, and the log says so.
constexpr auto kEndTimeout = std::chrono::seconds(10);

void end_every_other_process() {
    const auto deadline = Clock::now() + kEndTimeout;
    std::size_t reaped = 0;
    bool warned = false;
    for (;;) {
        if (::kill(-1, SIGKILL) != 0 && errno == EPERM && !std::exchange(warned, true))
            spdlog::error("cannot kill the container's remaining processes: {} (the supervisor needs CAP_KILL)",
                          std::strerror(errno));
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        while (pid > 0) {
            ++reaped;
            pid = ::waitpid(-1, &status, WNOHANG);
        }
        if (pid < 0 && errno == ECHILD)
            break;  // no process is left but PID 1
        if (pid < 0 && errno != EINTR) {
            spdlog::error("waitpid: {}", std::strerror(errno));
            return;
        }
        if (Clock::now() >= deadline) {
            spdlog::error("processes of the container are still running {} s after SIGKILL; the session's final "
                          "audit accounting may miss what they do",
                          kEndTimeout.count());
            return;
        }
        wait_a_little(std::chrono::milliseconds(20));
    }
    spdlog::debug("no process is left in the container ({} reaped at the end)", reaped);
}

// Ends what is left of the agent: SIGTERM (and SIGCONT, for stopped ones) to those a /proc listing
// finds, up to 2 s for them to exit; then, as PID 1, SIGKILL to every other process of the
// container until none is left (end_every_other_process: a listing can miss a process that never
// keeps its pid for long). Outside a container (tests) the listing is all there is: SIGKILL to
// what it finds, for a while.
void end_leftovers(pid_t agent, uid_t uid) {
    const bool pid1 = ::getpid() == 1;
    std::vector<pid_t> left = agent_processes(agent, uid);
    if (!left.empty()) {
        spdlog::info("the agent exited; ending {} process(es) it left behind", left.size());
        if (signal_all(left, SIGTERM)) {
            signal_all(left, SIGCONT);
            int ignored = 0;
            const auto deadline = Clock::now() + kGracePeriod;
            while (!left.empty() && Clock::now() < deadline) {
                wait_a_little(std::chrono::milliseconds(50));
                reap(-1, ignored);
                left = agent_processes(agent, uid);
            }
        }
    }
    if (pid1) {
        if (!left.empty())
            spdlog::info("{} process(es) still running after {} s; killing them", left.size(), kGracePeriod.count());
        end_every_other_process();
        return;
    }
    int ignored = 0;
    for (int round = 0; round < 40 && !left.empty(); ++round) {
        signal_all(left, SIGKILL);
        wait_a_little(std::chrono::milliseconds(50));
        reap(-1, ignored);
        left = agent_processes(agent, uid);
    }
}

// The host CLI is gone: nobody watches the session any more, so it ends. SIGTERM to the agent's
// group, up to 2 s, then SIGKILL. Returns the agent's wait status.
int end_agent(pid_t agent) {
    spdlog::warn("the rustyolo CLI is gone (its session connection closed); ending the agent");
    forward(agent, SIGTERM);
    forward(agent, SIGCONT);
    int status = 0;
    const auto deadline = Clock::now() + kGracePeriod;
    while (Clock::now() < deadline) {
        wait_a_little(std::chrono::milliseconds(50));
        if (reap(agent, status))
            return status;
    }
    forward(agent, SIGKILL);
    for (;;) {
        const pid_t pid = ::waitpid(agent, &status, 0);
        if (pid == agent || (pid < 0 && errno != EINTR))
            return status;
    }
}

}  // namespace

std::vector<pid_t> agent_processes(pid_t session, uid_t uid) {
    std::vector<pid_t> out;
    DIR *dir = ::opendir("/proc");
    if (!dir)
        return out;
    const pid_t self = ::getpid();
    // Safety: the sweep by uid is only done where it cannot reach beyond the sandbox, as PID 1 of
    // the container's own PID namespace, and never for uid 0. A session id of 0 or 1 (the kernel's
    // and init's) never stands for the agent's session.
    const bool by_uid = self == 1 && uid != 0;
    const bool by_session = session > 1;
    while (const dirent *entry = ::readdir(dir)) {
        pid_t pid = 0;
        const char *end = entry->d_name + std::strlen(entry->d_name);
        auto [ptr, ec] = std::from_chars(entry->d_name, end, pid);
        if (ec != std::errc() || ptr != end || pid <= 0 || pid == self)
            continue;
        ProcInfo info;
        if (!proc_info(pid, info) || info.state == 'Z' || info.state == 'X')
            continue;
        if ((by_session && info.session == session) || (by_uid && info.uid == static_cast<long>(uid)))
            out.push_back(pid);
    }
    ::closedir(dir);
    return out;
}

int supervise(pid_t agent, uid_t agent_uid) {
    const sigset_t set = supervisor_signal_set();
    int status = 0;
    for (;;) {
        siginfo_t info{};
        const int sig = ::sigwaitinfo(&set, &info);
        if (sig < 0)
            continue;  // EINTR
        if (sig == SIGCHLD) {
            if (reap(agent, status))
                break;
            continue;
        }
        if (sig == lifeline_signal()) {
            status = end_agent(agent);
            break;
        }
        spdlog::debug("forwarding signal {} to the agent", sig);
        forward(agent, sig);
    }
    const sdk::ExitStatus agent_exit = sdk::ExitStatus::from_wait(status);
    const int code = agent_exit.code();
    spdlog::debug("the agent {} (exit code {})", agent_exit.describe(), code);
    end_leftovers(agent, agent_uid);
    return code;
}

}  // namespace rustyolo::entrypoint
