#include "core/host/session_socket.hpp"

#include "core/error.hpp"

#include <rustyolo/sdk/send_all.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace rustyolo {

void WireLineReader::take(const char *data, std::size_t size) {
    std::size_t start = 0;
    while (start < size) {
        const char *newline = static_cast<const char *>(std::memchr(data + start, '\n', size - start));
        const std::size_t end = newline ? static_cast<std::size_t>(newline - data) : size;
        if (!discarding_) {
            const std::size_t room = max_line_ - partial_.size();
            if (end - start > room) {
                partial_.append(data + start, room);
                if (on_line_)
                    on_line_(partial_, true);
                partial_.clear();
                discarding_ = true;
            } else {
                partial_.append(data + start, end - start);
            }
        }
        if (!newline)
            break;
        if (!discarding_ && on_line_)
            on_line_(partial_, false);
        partial_.clear();
        discarding_ = false;
        start = end + 1;
    }
}

void WireLineReader::end() {
    if (!partial_.empty() && !discarding_ && on_line_)
        on_line_(partial_, true);
    partial_.clear();
    discarding_ = false;
}

SessionSocket::SessionSocket(std::string path, LineHandler on_line, CloseHandler on_close, std::size_t max_line,
                             ConnectHandler on_connect)
    : path_(std::move(path)), lines_(std::move(on_line), max_line), on_close_(std::move(on_close)),
      on_connect_(std::move(on_connect)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path)
        throw Error("the session socket path " + path_ + " is too long; set XDG_RUNTIME_DIR to a shorter directory");
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0)
        throw Error(std::string("cannot create the session socket: ") + std::strerror(errno));
    if (::bind(listen_fd_, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0 ||
        ::chmod(path_.c_str(), 0666) != 0 || ::listen(listen_fd_, 1) != 0 ||
        ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(listen_fd_);
        ::unlink(path_.c_str());
        throw Error("cannot listen on the session socket " + path_ + ": " + std::strerror(err));
    }
    thread_ = std::thread([this] { serve(); });
}

SessionSocket::~SessionSocket() {
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], &byte, 1);
    if (thread_.joinable())
        thread_.join();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

bool SessionSocket::connected() const { return connected_.load(); }

bool SessionSocket::send(std::string_view data) {
    std::lock_guard lock(send_mutex_);
    return connection_ >= 0 && send_all(connection_, data);
}

bool SessionSocket::wait_closed(int timeout_ms) const {
    for (int waited = 0; connected_.load() && !closed_.load(); waited += 10) {
        if (waited >= timeout_ms)
            return false;
        ::usleep(10 * 1000);
    }
    return true;
}

void SessionSocket::serve() {
    // Phase 1: the one connection. Phase 2: hold it open (reading what it sends) until stopped.
    std::array<pollfd, 2> fds{pollfd{listen_fd_, POLLIN, 0}, pollfd{stop_pipe_[0], POLLIN, 0}};
    int connection = -1;
    for (;;) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents)
            break;
        if (connection < 0 && (fds[0].revents & POLLIN)) {
            connection = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (connection < 0)
                continue;
            // Exactly one: stop listening and remove the name, so nothing can connect after it.
            ::close(listen_fd_);
            ::unlink(path_.c_str());
            listen_fd_ = -1;
            connected_.store(true);
            {
                std::lock_guard lock(send_mutex_);
                connection_ = connection;
            }
            fds[0] = pollfd{connection, POLLIN, 0};
            if (on_connect_)
                on_connect_();
            continue;
        }
        if (connection >= 0 && fds[0].revents) {
            char buffer[65536];
            ssize_t n = ::read(connection, buffer, sizeof buffer);
            if (n > 0) {
                lines_.take(buffer, static_cast<std::size_t>(n));
            } else if (!(n < 0 && errno == EINTR)) {
                fds[0].fd = -1;  // the container side is gone; keep waiting for stop
                {
                    std::lock_guard lock(send_mutex_);
                    connection_ = -1;
                }
                lines_.end();  // an unterminated last line is incomplete
                if (on_close_)
                    on_close_();
                closed_.store(true);
            }
        }
    }
    {
        std::lock_guard lock(send_mutex_);
        connection_ = -1;
    }
    if (connection >= 0)
        ::close(connection);
}

}  // namespace rustyolo
