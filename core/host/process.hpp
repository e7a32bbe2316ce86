// Starts external programs from an argv vector (never through a shell): the host's use of the
// SDK's runner (<rustyolo/sdk/process.hpp>), plus what only the CLI needs (signal forwarding to a
// foreground child). The program is looked up in PATH.
#pragma once

#include "core/private_header.hpp"

#include <string>
#include <vector>

namespace rustyolo {

struct ProcessOptions {
    // Extra environment entries for the child ("NAME=VALUE"); the rest is inherited.
    std::vector<std::string> extra_env;
    // Forward SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH received by us to the child, and
    // give the child SIGTERM if we die (PR_SET_PDEATHSIG).
    bool forward_signals = false;
};

// Runs argv in the foreground with our stdin/stdout/stderr and waits for it.
// Returns the exit status, or 128+n when the child was killed by signal n.
// Throws Error when the program cannot be started (naming it and the reason).
int run_foreground(const std::vector<std::string> &argv, const ProcessOptions &options = {});

struct Captured {
    int status = 0;
    std::string out;
    std::string err;
};
// Runs argv with stdin from /dev/null and captures stdout and stderr (up to 64 MiB each).
// Throws Error when the program cannot be started or writes more than that.
Captured run_capture(const std::vector<std::string> &argv);

}  // namespace rustyolo
