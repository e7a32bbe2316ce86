// The control socket of a running session: how `rustyolo allow` / `deny` (another rustyolo
// process of the same user) reach the CLI that runs the session, which relays to the container's
// supervisor (ControlRelay, over the session connection).
//
// Where: <runtime base>/control/<session>.sock, the runtime base being $XDG_RUNTIME_DIR/rustyolo
// or /tmp/rustyolo-<uid> (core/host/paths.hpp). The control directory is private (0700) and the
// socket 0600. It is a sibling of the session directories, never inside one: a session directory
// is mounted into its container (the session socket, the Plan), the control directory into none,
// so the agent has no path to it — which matters because the agent often runs with the user's own
// uid, so a peer-credential check alone could not tell it from the user. The peer's credentials
// (SO_PEERCRED) are still checked: another uid is refused, and the uid and pid of the requester
// go into the audit record of every change.
//
// One request per connection: the client sends one frame (core/control/frame.hpp), reads one
// response, and closes. Requests are served one at a time.
#pragma once

#include "core/private_header.hpp"

#include "core/control/frame.hpp"
#include "core/host/paths.hpp"
#include "core/host/session_socket.hpp"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rustyolo {

// <runtime base>/control, created private if needed.
std::string control_dir(const GetEnv &getenv_fn);
// <control dir>/<session>.sock
std::string control_socket_path(const GetEnv &getenv_fn, const std::string &session);

struct ControlPeer {
    uid_t uid = 0;
    pid_t pid = 0;
};

class ControlServer {
public:
    using Handler = std::function<control::Response(const control::Request &, const ControlPeer &)>;
    // Binds `path` (0600; an existing socket there is refused) and serves on a thread of its own.
    ControlServer(std::string path, Handler handler);
    ~ControlServer();  // stops and removes the socket
    ControlServer(const ControlServer &) = delete;
    ControlServer &operator=(const ControlServer &) = delete;

private:
    void serve();
    void serve_one(int fd);

    std::string path_;
    Handler handler_;
    int listen_fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    std::thread thread_;
};

// The session CLI's end of the relay: sends control requests to the supervisor over the session
// connection and pairs each response that comes back (take()) with its request.
class ControlRelay {
public:
    // The session socket the requests go over; until then every request is refused.
    void attach(SessionSocket *socket);
    // Sends `op` with `body` and waits for the supervisor's response. A request that cannot be
    // sent, or gets no response within `timeout`, gets a refusal (ok false) saying so.
    control::Response ask(const std::string &op, boost::json::object body, std::chrono::milliseconds timeout);
    // A control frame from the supervisor (a line of the session connection).
    void take(std::string_view line);
    // The connection ended: every waiting request fails.
    void closed();

private:
    std::mutex mutex_;
    SessionSocket *socket_ = nullptr;
    std::condition_variable arrived_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, control::Response> responses_;  // only for requests still waiting
    std::set<std::uint64_t> waiting_;
    bool closed_ = false;
};

// Client: one request to the control socket at `path`, one response. Throws Error naming the
// socket when it cannot connect (ECONNREFUSED: the session is gone) or gets no valid response
// within `timeout`.
control::Response control_call(const std::string &path, const control::Request &request,
                               std::chrono::milliseconds timeout);

// The running sessions of this user that answer on their control sockets: {"session", "agent",
// "project", "started", "socket"} each (the "hello" request). Sockets nobody listens on (a CLI that
// was killed) are removed.
std::vector<boost::json::object> running_sessions(const GetEnv &getenv_fn);

}  // namespace rustyolo
