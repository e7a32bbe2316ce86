// The lifeline to the host CLI. The CLI listens on the session socket and accepts exactly one
// connection; the supervisor connects before anything else happens in the container. When that
// connection closes — the CLI was killed — the watcher raises lifeline_signal() and the supervisor
// ends the agent: no session runs on without the CLI that started it.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include <string>

namespace rustyolo::entrypoint {

// Connects to the CLI's session socket. Throws when it cannot (then no CLI watches this
// container, and it must not start).
UniqueFd connect_lifeline(const std::string &path);

// Watches the connection on a thread of its own (the supervisor's signals are blocked in it):
// end of file or an error raises lifeline_signal() for the supervisor.
void watch_lifeline(UniqueFd connection);

}  // namespace rustyolo::entrypoint
