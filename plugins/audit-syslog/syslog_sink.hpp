// The audit syslog sink: RFC 5424 messages (syslog_format.hpp) over a Unix datagram socket.
//
// open() connects to the socket and refuses the start when nothing listens there. A message that
// cannot be sent later (the daemon went away, or stalled for longer than the send timeout) is
// counted; the first such failure is reported at once through `warn`, the count at close(). After a
// send that timed out, the next ones do not wait until one goes through again, so a stalled daemon
// costs one timeout, not one per record.
#pragma once

#include <rustyolo/sdk/unique_fd.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace rustyolo::audit_syslog {

class SyslogSink {
public:
    using Warn = std::function<void(const std::string &)>;

    explicit SyslogSink(Warn warn, std::chrono::milliseconds send_timeout = std::chrono::seconds(2))
        : warn_(std::move(warn)), send_timeout_(send_timeout) {}

    // Connects to `socket_path`. Throws std::runtime_error naming the path and what to do.
    void open(const std::string &socket_path);
    // Sends one record. Never throws for a send failure: it counts it.
    void send(const boost::json::object &record);
    // Reports the failures (through `warn`) and closes the socket. Returns how many failed.
    std::uint64_t close();

    std::uint64_t sent() const { return sent_; }
    std::uint64_t failed() const { return failed_; }

private:
    bool try_send(const std::string &message, int &error);
    int connect_socket(int &error) const;

    Warn warn_;
    std::chrono::milliseconds send_timeout_;
    std::string path_;
    std::string hostname_;
    long pid_ = 0;
    UniqueFd fd_;
    bool stalled_ = false;  // the last send timed out: the next ones do not wait
    std::uint64_t sent_ = 0, failed_ = 0;
    std::string first_error_;
};

}  // namespace rustyolo::audit_syslog
