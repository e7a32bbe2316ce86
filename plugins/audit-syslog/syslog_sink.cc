#include "plugins/audit-syslog/syslog_sink.hpp"

#include "plugins/audit-syslog/syslog_format.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace rustyolo::audit_syslog {

namespace {

const char *const kWhatToDo =
    "start a syslog daemon that listens there (rsyslog, syslog-ng or systemd-journald), give its socket "
    "with --audit-syslog-socket / [security] audit_syslog_socket, or leave the syslog sink out "
    "(--audit-sink file)";

}  // namespace

int SyslogSink::connect_socket(int &error) const {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = errno;
        return -1;
    }
    const timeval timeout{static_cast<time_t>(send_timeout_.count() / 1000),
                          static_cast<suseconds_t>((send_timeout_.count() % 1000) * 1000)};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
        error = errno;
        return -1;
    }
    return fd.release();
}

void SyslogSink::open(const std::string &socket_path) {
    if (fd_)
        throw std::runtime_error("the audit syslog sink already has a session open (" + path_ + ")");
    if (socket_path.empty() || socket_path.size() >= sizeof(sockaddr_un{}.sun_path))
        throw std::runtime_error("the syslog socket path \"" + socket_path + "\" is empty or longer than " +
                                 std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes; " + kWhatToDo);
    path_ = socket_path;
    int error = 0;
    const int fd = connect_socket(error);
    if (fd < 0) {
        std::string why = std::strerror(error);
        if (error == ENOENT)
            why = "there is no socket at that path";
        else if (error == ECONNREFUSED)
            why = "nothing listens on it (a stale socket: the daemon is gone)";
        else if (error == EPROTOTYPE)
            why = "it is not a datagram socket";
        throw std::runtime_error("cannot send audit records to syslog at " + socket_path + ": " + why + "; " +
                                 kWhatToDo);
    }
    fd_.reset(fd);
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0)
        hostname_ = host;
    pid_ = static_cast<long>(::getpid());
}

bool SyslogSink::try_send(const std::string &message, int &error) {
    if (!fd_) {
        const int fd = connect_socket(error);
        if (fd < 0)
            return false;
        fd_.reset(fd);
    }
    // While the daemon is stalled, do not wait the send timeout again for every record.
    const int flags = MSG_NOSIGNAL | (stalled_ ? MSG_DONTWAIT : 0);
    for (;;) {
        if (::send(fd_.get(), message.data(), message.size(), flags) >= 0) {
            stalled_ = false;
            return true;
        }
        if (errno != EINTR)
            break;
    }
    error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK)
        stalled_ = true;
    return false;
}

void SyslogSink::send(const boost::json::object &record) {
    const std::string message = format_message(record, hostname_, pid_);
    int error = 0;
    bool ok = try_send(message, error);
    if (!ok && (error == ECONNREFUSED || error == ENOTCONN || error == ENOENT || error == EPIPE)) {
        // The daemon may have restarted with a new socket: connect again once.
        fd_.reset();
        ok = try_send(message, error);
    }
    if (ok) {
        ++sent_;
        return;
    }
    if (error == ECONNREFUSED || error == ENOTCONN || error == ENOENT || error == EPIPE)
        fd_.reset();
    if (failed_++ == 0) {
        first_error_ = error == EAGAIN || error == EWOULDBLOCK ? "the daemon did not take it in time"
                                                                : std::strerror(error);
        if (warn_)
            warn_("audit-syslog: cannot send audit records to " + path_ + " (" + first_error_ +
                  "); rustyolo counts the records that do not reach syslog and reports them at the end. "
                  "The other sinks still have every record");
    }
}

std::uint64_t SyslogSink::close() {
    if (failed_ > 0 && warn_)
        warn_("audit-syslog: " + std::to_string(failed_) + " of " + std::to_string(failed_ + sent_) +
              " audit records did not reach syslog at " + path_ + " (" + first_error_ + ")");
    fd_.reset();
    return failed_;
}

}  // namespace rustyolo::audit_syslog
