// What PID 1 does while the agent runs: passes signals on to the agent's process group, reaps
// every child (orphans of the whole container re-parent to it), and once the agent has exited
// ends what is left of it (SIGTERM, then SIGKILL after 2 s), so that nothing keeps running. As
// PID 1 it then kills every other process of the container and reaps until none is left (ECHILD):
// the session's final accounting (drop counters, syscall and DNS reports) starts only once the
// agent provably has no process left.
#pragma once

#include "core/private_header.hpp"

#include <sys/types.h>

#include <vector>

namespace rustyolo::entrypoint {

// Waits for the agent (its pid is also its process group and session id) and returns its exit
// code: its status, or 128+n when signal n killed it. The supervisor's signals must already be
// blocked (block_supervisor_signals) since before the fork.
int supervise(pid_t agent, uid_t agent_uid);

// The container's processes that belong to the agent: in its session, or running as its uid
// (with no_new_privs and no capabilities, every descendant keeps that uid, even one that left the
// session). The uid is only looked at when the caller is PID 1 of its PID namespace (the
// container's supervisor) and never when it is 0: anywhere else the sweep stays in the session.
// Excludes the caller and zombies. Reads /proc.
std::vector<pid_t> agent_processes(pid_t session, uid_t uid);

}  // namespace rustyolo::entrypoint
