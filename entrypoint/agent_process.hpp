// Step "agent": fork the agent's process. The child becomes the agent, in this order: own session
// (and the terminal), privileges dropped, parent-death signal, environment, working directory,
// fds, the syscall filter (last thing before exec; its notification fd, when the syscall plugin
// reports denials, goes to the supervisor: syscall_reporter.hpp), exec. A child-side failure
// prints the step and exits 125; a failed exec prints the program and exits 127. The child never
// returns.
#pragma once

#include "core/private_header.hpp"

#include "core/loader/plugin_loader.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <boost/json.hpp>

#include <sys/types.h>

#include <string>
#include <vector>

namespace rustyolo::entrypoint {

struct AgentLaunch {
    std::vector<std::string> argv;  // argv[0] is looked up in the agent's PATH
    std::vector<std::string> env;   // "NAME=value"
    std::string workdir;
    uid_t uid = 0;
    gid_t gid = 0;
    bool terminal = false;  // stdin is a terminal the agent should own
    const LoadedPlugin *syscall_plugin = nullptr;
    const boost::json::value *plan = nullptr;  // handed to syscall.install
};

struct StartedAgent {
    pid_t pid = -1;              // also its process group and session id
    UniqueFd syscall_reports;    // the supervisor's end of the hand-over (start_syscall_reporter)
};

// Forks the agent. Throws std::runtime_error when fork (or the hand-over's socket pair) fails.
StartedAgent start_agent(const AgentLaunch &launch);

}  // namespace rustyolo::entrypoint
