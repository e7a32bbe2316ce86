#include "entrypoint/agent_process.hpp"

#include "entrypoint/credentials.hpp"
#include "entrypoint/diagnostics.hpp"
#include "entrypoint/fds.hpp"
#include "entrypoint/setup_error.hpp"
#include "entrypoint/signals.hpp"
#include "entrypoint/syscall_reporter.hpp"
#include "entrypoint/terminal.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace rustyolo::entrypoint {

namespace {

std::vector<char *> c_strings(const std::vector<std::string> &strings) {
    std::vector<char *> out;
    out.reserve(strings.size() + 1);
    for (const std::string &s : strings)
        out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// The agent's side of the fork. Never returns; never runs the parent's exit handlers (_exit).
// `reports`: the agent's end of the socket pair the syscall filter's notifications go through.
[[noreturn]] void become_agent(const AgentLaunch &launch, pid_t supervisor, int reports, char **argv,
                               char **envp) {
    // Plugins may run threads in the supervisor (the network plugin's feeder); one of them may have
    // held the logger's lock at the fork. The child logs through a fresh logger of its own.
    use_own_logger_after_fork();
    try {
        run_step("session", [&] {
            if (::setsid() < 0)
                throw_errno("setsid");
            if (launch.terminal)
                take_controlling_terminal();
        });
        run_step("privileges", [&] { drop_privileges(launch.uid, launch.gid); });
        // After the credential change, which clears the parent-death signal.
        run_step("parent death signal", [&] {
            if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
                throw_errno("prctl(PR_SET_PDEATHSIG)");
            if (::getppid() != supervisor)
                throw std::runtime_error("the supervisor is gone");
        });
        run_step("workdir", [&] {
            if (::chdir(launch.workdir.c_str()) != 0)
                throw_errno("cannot enter " + launch.workdir + " as uid " + std::to_string(launch.uid));
        });
        run_step("file descriptors", [&] { close_inherited_fds(reports); });
        run_step("seccomp", [&] {
            const rustyolo_syscall_hooks *hooks = launch.syscall_plugin->syscall();
            const boost::json::value installed =
                launch.syscall_plugin->call("syscall.install", hooks->install, *launch.plan);
            // Straight away: until the supervisor holds the listener, a notified call would wait.
            hand_over_syscall_reports(installed, reports);
            ::close(reports);  // the supervisor's end of the hand-over
        });
    } catch (const SetupError &e) {
        report("error", describe(e));
        ::_exit(kExitSetupFailed);
    } catch (const std::exception &e) {
        report("error", std::string("agent: ") + e.what());
        ::_exit(kExitSetupFailed);
    } catch (...) {
        report("error", "agent: unexpected failure while setting up the agent's process");
        ::_exit(kExitSetupFailed);
    }

    reset_signals_for_exec();
    environ = envp;  // execvp searches the agent's PATH, not ours
    ::execvp(argv[0], argv);
    const int error = errno;
    std::string why = std::strerror(error);
    if (error == ENOENT && std::strchr(argv[0], '/') == nullptr)
        why = "not found in the agent's PATH (" + std::string(::getenv("PATH") ? ::getenv("PATH") : "") + ")";
    report("error", std::string("exec: cannot run '") + argv[0] + "': " + why);
    ::_exit(kExitExecFailed);
}

}  // namespace

// The agent keeps a fork path of its own rather than <rustyolo/sdk/process.hpp>'s spawn(): its
// child does what that runner's async-signal-safe child cannot. It installs the syscall filter
// through the syscall plugin (a JSON call that allocates) as the very last step before exec, hands
// the filter's notification fd to the supervisor, drops privileges with verification (libcap), and
// looks argv[0] up in the agent's PATH only after becoming the agent's uid, so that the lookup
// sees what the agent may execute. Its exit status is decoded by sdk::ExitStatus (supervisor.cc).
StartedAgent start_agent(const AgentLaunch &launch) {
    if (launch.argv.empty() || !launch.syscall_plugin || !launch.plan)
        throw std::runtime_error("internal error: incomplete agent launch");
    // argv and envp are ready before the fork. The child still allocates (messages, the syscall
    // plugin's JSON): glibc's malloc stays usable in the child of a multi-threaded process.
    std::vector<char *> argv = c_strings(launch.argv);
    std::vector<char *> envp = c_strings(launch.env);
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        throw_errno("socketpair for the syscall filter's notifications");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    const pid_t supervisor = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("fork");
    if (pid == 0) {
        ::close(ours.release());
        become_agent(launch, supervisor, theirs.release(), argv.data(), envp.data());
    }
    return StartedAgent{pid, std::move(ours)};
}

}  // namespace rustyolo::entrypoint
