// Step "agent": fork the agent's process. The child becomes the agent, in this order: own session
// (and the terminal), privileges dropped, parent-death signal, environment, working directory,
// fds, the syscall filter (last thing before exec), exec. A child-side failure prints the step and
// exits 125; a failed exec prints the program and exits 127. The child never returns.
#pragma once

#include "plugin_loader.hpp"

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

// Returns the agent's pid (also its process group and session id). Throws std::runtime_error
// when fork fails.
pid_t start_agent(const AgentLaunch &launch);

}  // namespace rustyolo::entrypoint
