// The lifeline to the host CLI. The CLI listens on the session socket and accepts exactly one
// connection; the supervisor connects before anything else happens in the container. When that
// connection closes — the CLI was killed — the watcher raises lifeline_signal() and the supervisor
// ends the agent: no session runs on without the CLI that started it.
//
// The CLI also sends control requests over it (core/control/frame.hpp; `rustyolo allow` / `deny`
// of the running session). The watcher reads them line by line and hands each to the control
// handler; its response goes back through the audit channel's writer (audit_send_frame). Any
// other line from the CLI is ignored.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include "core/control/frame.hpp"

#include <functional>
#include <string>

namespace rustyolo::entrypoint {

// Connects to the CLI's session socket. Throws when it cannot (then no CLI watches this
// container, and it must not start).
UniqueFd connect_lifeline(const std::string &path);

using ControlHandler = std::function<control::Response(const control::Request &)>;

// Sets the handler of control requests (empty: every request is refused, "the session is not
// ready for live changes" / "is ending"). Returns once no call of the previous handler is running,
// so that what it uses may go away after set_control_handler({}).
void set_control_handler(ControlHandler handler);

// Watches the connection on a thread of its own (the supervisor's signals are blocked in it):
// end of file or an error raises lifeline_signal() for the supervisor.
void watch_lifeline(UniqueFd connection);

}  // namespace rustyolo::entrypoint
