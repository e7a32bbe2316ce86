#include "core/host/control_socket.hpp"

#include "core/error.hpp"

#include <rustyolo/sdk/send_all.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace rustyolo {

namespace json = boost::json;

namespace {

constexpr auto kClientTimeout = std::chrono::seconds(10);

sockaddr_un address_of(const std::string &path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path)
        throw Error("the control socket path " + path + " is too long; set XDG_RUNTIME_DIR to a shorter directory");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    return address;
}

// Reads one line (without '\n') of at most control::kMaxFrame bytes before `deadline`.
bool read_line(int fd, std::string &line, std::chrono::steady_clock::time_point deadline) {
    line.clear();
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        pollfd pfd{fd, POLLIN, 0};
        int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return false;
        std::array<char, 4096> buffer;
        ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        for (ssize_t i = 0; i < n; ++i) {
            if (buffer[i] == '\n')
                return true;
            line += buffer[i];
        }
        if (line.size() > control::kMaxFrame)
            return false;
    }
}

}  // namespace

std::string control_dir(const GetEnv &getenv_fn) {
    // A sibling of the session directories, under the runtime base (paths.hpp).
    const std::string dir = runtime_base_dir(getenv_fn) + "/control";
    make_private_dir(dir);
    return dir;
}

std::string control_socket_path(const GetEnv &getenv_fn, const std::string &session) {
    return control_dir(getenv_fn) + "/" + session + ".sock";
}

ControlServer::ControlServer(std::string path, Handler handler) : path_(std::move(path)), handler_(std::move(handler)) {
    sockaddr_un address = address_of(path_);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0)
        throw Error(std::string("cannot create the control socket: ") + std::strerror(errno));
    // 0600 from the start: bound under a umask that leaves the owner only.
    const mode_t old = ::umask(0177);
    const int bound = ::bind(listen_fd_, reinterpret_cast<const sockaddr *>(&address), sizeof address);
    const int bind_error = errno;
    ::umask(old);
    if (bound != 0 || ::listen(listen_fd_, 8) != 0 || ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
        const int err = bound != 0 ? bind_error : errno;
        ::close(listen_fd_);
        if (bound == 0)
            ::unlink(path_.c_str());
        throw Error("cannot listen on the control socket " + path_ + ": " + std::strerror(err));
    }
    thread_ = std::thread([this] { serve(); });
}

ControlServer::~ControlServer() {
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], &byte, 1);
    if (thread_.joinable())
        thread_.join();
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

void ControlServer::serve() {
    std::array<pollfd, 2> fds{pollfd{listen_fd_, POLLIN, 0}, pollfd{stop_pipe_[0], POLLIN, 0}};
    for (;;) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents)
            return;
        if (!(fds[0].revents & POLLIN))
            continue;
        UniqueFd client(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
        if (!client)
            continue;
        try {
            serve_one(client.get());
        } catch (const std::exception &e) {
            spdlog::warn("control socket: {}", e.what());
        }
    }
}

void ControlServer::serve_one(int fd) {
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0)
        return;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::string line;
    if (!read_line(fd, line, std::chrono::steady_clock::now() + kClientTimeout))
        return;
    control::Request request;
    try {
        request = control::parse_request(line);
    } catch (const control::FrameError &e) {
        send_all(fd, control::format(control::refusal(1, e.what(), true)));
        return;
    }
    control::Response response;
    if (peer.uid != ::getuid()) {
        response = control::refusal(request.id,
                                    "uid " + std::to_string(peer.uid) + " is not the user who runs this session", true);
    } else {
        try {
            response = handler_(request, ControlPeer{peer.uid, peer.pid});
        } catch (const UsageError &e) {
            response = control::refusal(request.id, e.what(), true);
        } catch (const std::exception &e) {
            response = control::refusal(request.id, e.what(), false);
        }
    }
    response.id = request.id;
    send_all(fd, control::format(response));
}

void ControlRelay::attach(SessionSocket *socket) {
    std::lock_guard lock(mutex_);
    socket_ = socket;
}

control::Response ControlRelay::ask(const std::string &op, json::object body, std::chrono::milliseconds timeout) {
    control::Request request;
    SessionSocket *socket = nullptr;
    {
        std::lock_guard lock(mutex_);
        request.id = next_id_++;
        socket = socket_;
    }
    request.op = op;
    request.body = std::move(body);
    if (!socket || !socket->send(control::format(request)))
        return control::refusal(request.id, "the container's supervisor is not connected (the session is starting or ending)",
                                false);
    std::unique_lock lock(mutex_);
    const bool arrived = arrived_.wait_for(lock, timeout, [&] { return closed_ || responses_.count(request.id); });
    if (!arrived || !responses_.count(request.id))
        return control::refusal(request.id,
                                closed_ ? "the session ended before the change was confirmed"
                                        : "the container's supervisor did not answer within " +
                                              std::to_string(timeout.count() / 1000) + " s",
                                false);
    control::Response response = std::move(responses_.at(request.id));
    responses_.erase(request.id);
    return response;
}

void ControlRelay::take(std::string_view line) {
    control::Response response;
    try {
        response = control::parse_response(line);
    } catch (const control::FrameError &e) {
        spdlog::warn("a control response from the container was refused: {}", e.what());
        return;
    }
    std::lock_guard lock(mutex_);
    if (response.id >= next_id_)
        return;  // no request of ours has that id
    responses_[response.id] = std::move(response);
    arrived_.notify_all();
}

void ControlRelay::closed() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    arrived_.notify_all();
}

control::Response control_call(const std::string &path, const control::Request &request,
                               std::chrono::milliseconds timeout) {
    sockaddr_un address = address_of(path);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        throw Error(std::string("cannot create a socket: ") + std::strerror(errno));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        throw Error("cannot reach the session's control socket " + path + ": " + std::strerror(errno) +
                    (errno == ECONNREFUSED ? " (the session has ended)" : ""));
    if (!send_all(fd.get(), control::format(request)))
        throw Error("cannot send to the control socket " + path + ": " + std::strerror(errno));
    std::string line;
    if (!read_line(fd.get(), line, std::chrono::steady_clock::now() + timeout))
        throw Error("the session behind " + path + " gave no answer within " +
                    std::to_string(timeout.count() / 1000) + " s");
    try {
        return control::parse_response(line);
    } catch (const control::FrameError &e) {
        throw Error("the session behind " + path + " answered with an invalid control frame: " + e.what());
    }
}

std::vector<json::object> running_sessions(const GetEnv &getenv_fn) {
    std::vector<json::object> sessions;
    const std::string dir = control_dir(getenv_fn);
    DIR *listing = ::opendir(dir.c_str());
    if (!listing)
        return sessions;
    std::vector<std::string> sockets;
    while (const dirent *entry = ::readdir(listing)) {
        std::string name = entry->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".sock") == 0)
            sockets.push_back(dir + "/" + name);
    }
    ::closedir(listing);
    std::sort(sockets.begin(), sockets.end());
    for (const std::string &path : sockets) {
        control::Request hello;
        hello.id = 1;
        hello.op = "hello";
        try {
            control::Response response = control_call(path, hello, std::chrono::seconds(5));
            if (!response.ok)
                continue;
            json::object session = response.result;
            session["socket"] = path;
            sessions.push_back(std::move(session));
        } catch (const Error &) {
            struct stat st{};
            // Nobody listens: its CLI was killed. Only a socket of ours is removed.
            if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == ::getuid()) {
                sockaddr_un address = address_of(path);
                UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
                if (probe && ::connect(probe.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0 &&
                    errno == ECONNREFUSED)
                    ::unlink(path.c_str());
            }
        }
    }
    return sessions;
}

}  // namespace rustyolo
