// The host end of the session's lifeline: a Unix socket in the private session dir that accepts
// exactly one connection — the container's supervisor, which connects before the agent exists —
// and then stops listening (the socket file is removed), so nothing else can connect later. The
// connection stays open for the whole session; when this process dies the kernel closes it and
// the supervisor ends the agent.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace rustyolo {

class SessionSocket {
public:
    // Binds and listens at `path` (mode 0666: the supervisor is root without CAP_DAC_OVERRIDE;
    // the directory above is private to the user).
    explicit SessionSocket(std::string path);
    ~SessionSocket();
    SessionSocket(const SessionSocket &) = delete;
    SessionSocket &operator=(const SessionSocket &) = delete;

    const std::string &path() const { return path_; }
    // Whether the supervisor has connected (for diagnostics).
    bool connected() const;

private:
    void serve();

    std::string path_;
    int listen_fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    std::atomic<bool> connected_{false};
    std::thread thread_;
};

}  // namespace rustyolo
