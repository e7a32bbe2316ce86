// The host end of the session's lifeline: a Unix socket in the private session dir that accepts
// exactly one connection — the container's supervisor, which connects before the agent exists —
// and then stops listening (the socket file is removed), so nothing else can connect later. The
// connection stays open for the whole session; when this process dies the kernel closes it and
// the supervisor ends the agent. The supervisor sends the session's audit records over it, one
// JSON line each (docs/audit-schema.md); every line is handed to `on_line` on the socket's thread.
// The other way, send() writes control requests to the supervisor (docs/control-protocol.md); its
// responses arrive as lines among the records.
#pragma once

#include "core/private_header.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace rustyolo {

// The session socket's byte stream as lines: each line without its newline goes to `on_line`; a line
// longer than `max_line` is handed over cut there, marked overlong, and the rest of it is discarded.
class WireLineReader {
public:
    using LineHandler = std::function<void(std::string_view line, bool overlong)>;

    WireLineReader(LineHandler on_line, std::size_t max_line) : on_line_(std::move(on_line)), max_line_(max_line) {}

    // The next bytes read from the connection.
    void take(const char *data, std::size_t size);
    // The connection ended: an unterminated last line is handed over as incomplete (overlong).
    void end();

private:
    LineHandler on_line_;
    std::size_t max_line_;
    std::string partial_;
    bool discarding_ = false;
};

class SessionSocket {
public:
    // A line from the supervisor, without its newline. `overlong`: the line was longer than
    // `max_line` and is cut there (the rest is discarded).
    using LineHandler = WireLineReader::LineHandler;
    // The connection ended (the container is gone). Not called when the socket is destroyed first.
    using CloseHandler = std::function<void()>;
    // The one connection was accepted (the container exists and its mounts are in place), on the
    // socket's thread.
    using ConnectHandler = std::function<void()>;

    // Binds and listens at `path` (mode 0666: the supervisor is root without CAP_DAC_OVERRIDE;
    // the directory above is private to the user).
    SessionSocket(std::string path, LineHandler on_line = {}, CloseHandler on_close = {},
                  std::size_t max_line = 16 * 1024, ConnectHandler on_connect = {});
    ~SessionSocket();
    SessionSocket(const SessionSocket &) = delete;
    SessionSocket &operator=(const SessionSocket &) = delete;

    const std::string &path() const { return path_; }
    // Writes `data` (whole control frames) to the supervisor. False when it is not connected or
    // the connection is gone. Thread-safe.
    bool send(std::string_view data);
    // Whether the supervisor has connected (for diagnostics).
    bool connected() const;
    // Waits until the supervisor's connection has ended and every line it sent was handed over
    // (true), or `timeout_ms` passed (false). Returns true at once when it never connected.
    bool wait_closed(int timeout_ms) const;

private:
    void serve();

    std::string path_;
    WireLineReader lines_;
    CloseHandler on_close_;
    ConnectHandler on_connect_;
    int listen_fd_ = -1;
    std::mutex send_mutex_;
    int connection_ = -1;  // guarded by send_mutex_ for send(); owned by the socket's thread
    int stop_pipe_[2] = {-1, -1};
    std::atomic<bool> connected_{false};
    std::atomic<bool> closed_{false};
    std::thread thread_;
};

}  // namespace rustyolo
