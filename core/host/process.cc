#include "core/host/process.hpp"

#include "core/error.hpp"

#include <rustyolo/sdk/process.hpp>

#include <signal.h>

#include <array>
#include <atomic>
#include <optional>

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

constexpr std::array<int, 5> kForwarded{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
constexpr std::size_t kCaptureLimit = std::size_t{64} << 20;

// Installs the forwarding handlers for its lifetime (the child starts with default dispositions).
class SignalForwarding {
public:
    explicit SignalForwarding(bool active) : active_(active) {
        if (!active_)
            return;
        struct sigaction sa {};
        sa.sa_sigaction = forward_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | SA_SIGINFO;
        for (std::size_t i = 0; i < kForwarded.size(); ++i)
            ::sigaction(kForwarded[i], &sa, &previous_[i]);
    }
    ~SignalForwarding() {
        g_forward_to.store(0);
        if (active_)
            for (std::size_t i = 0; i < kForwarded.size(); ++i)
                ::sigaction(kForwarded[i], &previous_[i], nullptr);
    }
    SignalForwarding(const SignalForwarding &) = delete;
    SignalForwarding &operator=(const SignalForwarding &) = delete;

private:
    bool active_;
    std::array<struct sigaction, kForwarded.size()> previous_{};
};

// Holds the forwarded signals blocked for its lifetime, so that one arriving while the child is
// being started waits until the child's pid is known (then the handler forwards it) instead of
// finding no pid and being lost. The child starts with an empty mask (sdk::spawn resets it).
class BlockedSignals {
public:
    explicit BlockedSignals(bool active) : active_(active) {
        if (!active_)
            return;
        sigset_t set;
        sigemptyset(&set);
        for (int sig : kForwarded)
            sigaddset(&set, sig);
        ::sigprocmask(SIG_BLOCK, &set, &previous_);
    }
    ~BlockedSignals() {
        if (active_)
            ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
    }
    BlockedSignals(const BlockedSignals &) = delete;
    BlockedSignals &operator=(const BlockedSignals &) = delete;

private:
    bool active_;
    sigset_t previous_{};
};

}  // namespace

int run_foreground(const std::vector<std::string> &argv, const ProcessOptions &options) {
    if (argv.empty())
        throw Error("internal error: empty command");
    sdk::RunOptions run;
    run.argv = argv;
    run.search_path = true;
    run.extra_env = options.extra_env;
    run.stdin_mode = run.stdout_mode = run.stderr_mode = sdk::Stdio::inherit;
    if (options.forward_signals)
        run.parent_death_signal = SIGTERM;
    try {
        SignalForwarding forwarding(options.forward_signals);
        std::optional<sdk::Child> child;
        {
            BlockedSignals blocked(options.forward_signals);
            child.emplace(sdk::spawn(run));
            g_forward_to.store(child->pid());
        }  // a signal that came in meanwhile is delivered here, and forwarded
        return child->wait().code();
    } catch (const sdk::ProcessError &e) {
        throw Error(e.what());
    }
}

Captured run_capture(const std::vector<std::string> &argv) {
    if (argv.empty())
        throw Error("internal error: empty command");
    sdk::RunOptions run;
    run.argv = argv;
    run.search_path = true;
    run.capture_limit = kCaptureLimit;
    try {
        sdk::RunResult result = sdk::run(run);
        if (result.out_truncated || result.err_truncated)
            throw Error(argv[0] + " wrote more than " + std::to_string(kCaptureLimit >> 20) +
                        " MiB; its output was not used");
        return Captured{result.code(), std::move(result.out), std::move(result.err)};
    } catch (const sdk::ProcessError &e) {
        throw Error(e.what());
    }
}

}  // namespace rustyolo
