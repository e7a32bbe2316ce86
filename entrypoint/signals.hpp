// Signals. The supervisor's signals (those it forwards, and SIGCHLD) are blocked first thing in
// main, before any plugin can start a thread: threads inherit the mask, so no thread but the
// supervisor's sigwaitinfo ever takes one, and none is lost while PID 1 (which the kernel shields
// from signals it has no handler for) sets up. A terminating one that arrives during set-up stops
// it between two steps. The agent's process starts with default dispositions and an empty mask.
#pragma once

#include "core/private_header.hpp"

#include <csignal>
#include <vector>

namespace rustyolo::entrypoint {

// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH: passed on to the agent.
const std::vector<int> &forwarded_signals();

// The signal the lifeline watcher raises when the host CLI's connection closes (a real-time one).
int lifeline_signal();

// The supervisor's set: the forwarded signals, SIGCHLD and the lifeline signal.
sigset_t supervisor_signal_set();
void block_supervisor_signals();

// A terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, the lifeline signal) waiting, or 0.
int pending_termination();

// Runs fn with SIGHUP ignored and unblocked, so that a SIGHUP generated meanwhile is dropped
// rather than queued (for the terminal hand-over, which makes the kernel send one).
template <class Fn>
void with_sighup_dropped(Fn &&fn);

// In the agent's process just before exec: every disposition back to default, nothing blocked.
void reset_signals_for_exec();

namespace detail {
struct SighupDrop {
    SighupDrop();
    ~SighupDrop();
    SighupDrop(const SighupDrop &) = delete;
    SighupDrop &operator=(const SighupDrop &) = delete;
    struct sigaction previous {};
};
}  // namespace detail

template <class Fn>
void with_sighup_dropped(Fn &&fn) {
    detail::SighupDrop drop;
    fn();
}

}  // namespace rustyolo::entrypoint
