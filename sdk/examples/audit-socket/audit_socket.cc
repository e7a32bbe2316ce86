// audit-socket: a third-party audit sink that forwards every audit record of a session to a Unix
// stream socket as JSON lines (one record per line, serialized exactly as the host hands it over,
// so the lines equal the audit-file sink's). Selected with `--audit-sink socket`; see README.md.
//
// Where: the plugin config's "socket" (a JSON string), else the environment variable
// RUSTYOLO_AUDIT_SOCKET. Something must listen there when the session's first record is written:
// a missing path, a path nobody listens on or a full backlog refuses the start with the reason
// (the host does not start an agent whose records a selected sink cannot take).
//
// A slow reader never stalls the session: the socket is non-blocking and what it cannot take at once
// waits in a buffer of at most kMaxPending bytes. A record that does not fit in the buffer is
// dropped whole (never half a line) and counted; the records carry "seq", so the reader sees the
// gap, and at close a last line {"audit_socket": "dropped", ...} says how many were dropped. At close
// the buffer gets at most kCloseWait to drain. A reader that goes away makes every later record
// fail; the host warns once and counts the failures.
#include <rustyolo/sdk/plugin.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

constexpr std::size_t kMaxPending = 1024 * 1024;
constexpr std::chrono::milliseconds kCloseWait{2000};
constexpr const char *kEnvironment = "RUSTYOLO_AUDIT_SOCKET";

class AuditSocket final : public sdk::Plugin, public sdk::AuditHook {
public:
    using sdk::Plugin::Plugin;

    json::value open(const json::object & /*session*/) override {
        path_ = socket_path();
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (path_.size() >= sizeof(address.sun_path))
            throw sdk::InvalidInput("audit-socket: the socket path " + path_ + " is " +
                                    std::to_string(path_.size()) + " bytes long, more than a Unix socket " +
                                    "address holds (" + std::to_string(sizeof(address.sun_path) - 1) +
                                    "); use a shorter path");
        std::memcpy(address.sun_path, path_.data(), path_.size());
        rustyolo::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd)
            throw std::runtime_error("audit-socket: cannot create a Unix socket: " + std::string(std::strerror(errno)));
        int rc;
        do
            rc = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address));
        while (rc != 0 && errno == EINTR);
        if (rc != 0) {
            const int error = errno;
            std::string why = std::strerror(error);
            if (error == ENOENT)
                why = "no such socket";
            else if (error == ECONNREFUSED)
                why = "nothing listens there";
            else if (error == EAGAIN)
                why = "the listener's backlog is full";
            throw sdk::InvalidInput("audit-socket: cannot connect to " + path_ + ": " + why +
                                    "; start the listener first (a Unix stream socket), or set the path with " +
                                    kEnvironment + ", or leave out --audit-sink socket");
        }
        fd_ = std::move(fd);
        pending_.clear();
        dropped_ = 0;
        return json::object{{"location", "socket (" + path_ + ")"}};
    }

    void event(const json::object &record) override {
        if (!fd_)
            throw std::runtime_error("audit-socket: the connection to " + path_ + " is closed");
        std::string line = json::serialize(record);
        line.push_back('\n');
        flush();
        if (pending_.size() + line.size() > kMaxPending) {
            if (dropped_++ == 0) {
                host().log(sdk::LogLevel::warn, "audit-socket: the reader on " + path_ +
                                                    " is too slow; dropping records (counted, see seq)");
                first_dropped_ = seq_of(record);
            }
            last_dropped_ = seq_of(record);
            return;
        }
        pending_ += line;
        flush();
    }

    void close(const json::object & /*summary*/) override {
        if (!fd_)
            return;
        if (dropped_ > 0) {
            std::string line = json::serialize(json::object{{"audit_socket", "dropped"},
                                                            {"records", dropped_},
                                                            {"first_seq", first_dropped_},
                                                            {"last_seq", last_dropped_}});
            pending_ += line + "\n";
        }
        const auto deadline = std::chrono::steady_clock::now() + kCloseWait;
        try {
            for (flush(); !pending_.empty(); flush()) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0)
                    break;
                pollfd p{fd_.get(), POLLOUT, 0};
                ::poll(&p, 1, static_cast<int>(left.count()));
            }
        } catch (...) {
            fd_.reset();
            throw;
        }
        const std::size_t unsent = pending_.size();
        fd_.reset();
        pending_.clear();
        if (unsent > 0)
            throw std::runtime_error("audit-socket: the reader on " + path_ + " did not take the last " +
                                     std::to_string(unsent) + " bytes within " +
                                     std::to_string(kCloseWait.count()) + " ms; they are lost");
        if (dropped_ > 0)
            host().log(sdk::LogLevel::warn, "audit-socket: " + std::to_string(dropped_) +
                                                " records were dropped for a slow reader on " + path_);
    }

private:
    std::string socket_path() const {
        const json::value &config = host().config();
        if (const json::object *o = config.if_object())
            if (const json::value *socket = o->if_contains("socket")) {
                if (!socket->is_string() || socket->as_string().empty())
                    throw sdk::InvalidInput("audit-socket: config \"socket\" must be a non-empty string (the "
                                            "listener's path), not " + json::serialize(*socket));
                return std::string(socket->as_string());
            }
        const char *value = std::getenv(kEnvironment);
        if (!value || !*value)
            throw sdk::InvalidInput(std::string("audit-socket: no socket to send the records to: set ") +
                                    kEnvironment + " to the path of a listening Unix stream socket, or "
                                    "leave out --audit-sink socket");
        if (value[0] != '/')
            throw sdk::InvalidInput(std::string("audit-socket: ") + kEnvironment + "=" + value +
                                    " is not an absolute path; give the listener's full path");
        return value;
    }

    static std::uint64_t seq_of(const json::object &record) {
        const json::value *seq = record.if_contains("seq");
        return seq && seq->is_uint64() ? seq->as_uint64()
                                       : (seq && seq->is_int64() ? static_cast<std::uint64_t>(seq->as_int64()) : 0);
    }

    // Sends what the socket takes now; the rest stays in pending_. Throws (and closes the
    // connection) when the reader is gone.
    void flush() {
        while (!pending_.empty()) {
            const ssize_t n = ::send(fd_.get(), pending_.data(), pending_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                pending_.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;  // the reader is behind: keep it for later
            const std::string why = n < 0 ? std::strerror(errno) : "nothing sent";
            fd_.reset();
            throw std::runtime_error("audit-socket: the reader on " + path_ + " went away (" + why +
                                     "); later records are not sent");
        }
    }

    std::string path_;
    rustyolo::UniqueFd fd_;
    std::string pending_;
    std::uint64_t dropped_ = 0, first_dropped_ = 0, last_dropped_ = 0;
};

}  // namespace

RUSTYOLO_PLUGIN(AuditSocket, "audit-socket", "1.0.0",
                "Example third-party audit sink: every audit record as a JSON line to a Unix socket")
