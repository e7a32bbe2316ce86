#include "entrypoint/signals.hpp"

#include <signal.h>

namespace rustyolo::entrypoint {

namespace {

sigset_t only(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return set;
}

}  // namespace

const std::vector<int> &forwarded_signals() {
    static const std::vector<int> signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    return signals;
}

int lifeline_signal() { return SIGRTMIN + 1; }

sigset_t supervisor_signal_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : forwarded_signals())
        sigaddset(&set, sig);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, lifeline_signal());
    return set;
}

void block_supervisor_signals() {
    sigset_t set = supervisor_signal_set();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int pending_termination() {
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, lifeline_signal()})
        if (sigismember(&pending, sig) == 1)
            return sig;
    return 0;
}

detail::SighupDrop::SighupDrop() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGHUP, &ignore, &previous);
    const sigset_t hup = only(SIGHUP);
    ::pthread_sigmask(SIG_UNBLOCK, &hup, nullptr);
}

detail::SighupDrop::~SighupDrop() {
    const sigset_t hup = only(SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &hup, nullptr);
    ::sigaction(SIGHUP, &previous, nullptr);
}

void reset_signals_for_exec() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP)
            ::sigaction(sig, &action, nullptr);  // EINVAL for numbers glibc reserves: harmless
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace rustyolo::entrypoint
