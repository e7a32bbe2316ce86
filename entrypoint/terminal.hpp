// The terminal hand-over. With `docker run --tty` the container's stdin is a terminal whose
// controlling session is the entrypoint's (runc makes PID 1 a session leader with it). The agent
// must own it — its own session, foreground process group, job control, Ctrl-C from the tty — so
// the supervisor gives it up before the fork and the agent takes it in its new session.
#pragma once

#include "core/private_header.hpp"

namespace rustyolo::entrypoint {

// Parent, before fork. Returns whether stdin is a terminal. Detaching (TIOCNOTTY) makes the kernel
// send SIGHUP to our own process group; it is dropped (with_sighup_dropped), not forwarded.
bool release_controlling_terminal();

// Child, after setsid(): makes stdin its controlling terminal (TIOCSCTTY), which also makes the
// child's process group the terminal's foreground group. A failure is reported, not fatal: the
// agent then runs without job control, with no effect on the sandbox.
void take_controlling_terminal();

}  // namespace rustyolo::entrypoint
