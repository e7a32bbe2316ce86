// Blocked packets as the kernel logs them: a reader for one NFLOG group (libnetfilter_log), and the
// parser for the packet headers it carries.
//
// Both network plugins end every drop of their firewall with a rule that logs the packet to the
// NFLOG group `nflog_group` with the blocking chain's name as the prefix ("blocked_output",
// "blocked_guard", "blocked_input", "blocked_flow_class"), copying the first `nflog_copy_bytes` bytes (the IP and
// transport headers). The supervisor binds that group with NflogReader before the firewall exists
// and before the agent exists, so that every packet the firewall counts can reach it; the agent
// (no CAP_NET_ADMIN) can neither bind the group nor unbind it.
//
// Cheap per packet: the reader thread parses the headers into fixed buffers (no allocation) and
// hands a BlockedPacket to the callback. The socket's receive buffer is large; when it overruns
// anyway (ENOBUFS), messages are lost, and the firewall's counters, compared with received(),
// say how many.
#pragma once

#include <rustyolo/sdk/unique_fd.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

struct nflog_handle;
struct nflog_g_handle;
struct nflog_data;
struct nfgenmsg;

namespace rustyolo::net {

// The NFLOG group of rustyolo's firewall (both plugins). Groups are per network namespace: this
// one belongs to the container's.
inline constexpr std::uint16_t nflog_group = 1700;
// What the kernel copies of each logged packet: the headers (IPv6 with a few extension headers
// and TCP with options fit).
inline constexpr std::uint32_t nflog_copy_bytes = 128;

// The headers of one logged packet. Text fields are NUL-terminated.
struct PacketHeaders {
    int family = 0;                 // 4 or 6; 0: not an IP packet (nothing else is valid)
    std::uint8_t protocol = 0;      // IP protocol number (after IPv6 extension headers)
    char source[46] = {};           // INET6_ADDRSTRLEN
    char destination[46] = {};
    bool has_ports = false;         // TCP/UDP/UDP-Lite/SCTP/DCCP first fragment with its ports
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
};

// Parses an IPv4 or IPv6 packet (as NFLOG copies it: starting at the IP header, possibly cut
// short). Never reads beyond `length`; what is cut off stays unset.
PacketHeaders parse_packet_headers(const std::uint8_t *data, std::size_t length);

// "tcp", "udp", "icmp", "icmpv6", "udplite", "sctp", "dccp", or the number as text.
std::string_view protocol_name(std::uint8_t protocol, char (&buffer)[4]);

struct BlockedPacket {
    PacketHeaders headers;
    std::string_view prefix;        // the log prefix: the blocking chain's name
    bool has_uid = false;           // NFULA_UID: locally generated packets of a socket
    std::uint32_t uid = 0;
    bool has_gid = false;           // NFULA_GID: the same socket's group
    std::uint32_t gid = 0;
};

class NflogReader {
public:
    using Handler = std::function<void(const BlockedPacket &packet)>;

    // Binds `group` (copy mode: packet, `copy_bytes`), asks for the sender's uid with each packet,
    // sets a receive buffer of `receive_buffer` bytes (SO_RCVBUFFORCE). Throws std::runtime_error
    // naming the step and errno (EBUSY/EEXIST: another listener holds the group; EPERM: no
    // CAP_NET_ADMIN). The thread does not run yet.
    NflogReader(std::uint16_t group, Handler handler, std::uint32_t copy_bytes = nflog_copy_bytes,
                int receive_buffer = 16 << 20);
    // Stops the thread and unbinds the group.
    ~NflogReader();
    NflogReader(const NflogReader &) = delete;
    NflogReader &operator=(const NflogReader &) = delete;

    // Starts the reader thread; the handler is called from it only.
    void start();
    // Waits until received() >= `count` or `timeout` passed; true if reached.
    bool wait_received(std::uint64_t count, std::chrono::milliseconds timeout);
    // Stops the thread (idempotent). Messages still queued in the socket are not read.
    void stop();

    // Log messages received and handed to the handler (including packets that could not be
    // parsed: the handler sees family 0).
    std::uint64_t received() const { return received_.load(); }
    // True from start() until the reading thread ends (stop(), or a poll error).
    bool running() const { return running_.load(); }

private:
    static int on_message(nflog_g_handle *group, nfgenmsg *message, nflog_data *data, void *self);
    void run();

    nflog_handle *handle_ = nullptr;
    nflog_g_handle *group_ = nullptr;
    Handler handler_;
    UniqueFd stop_;  // eventfd: stop() wakes the thread
    std::thread thread_;
    std::atomic<std::uint64_t> received_{0};
    std::atomic<bool> running_{false};
    std::mutex mutex_;
    std::condition_variable progress_;
};

}  // namespace rustyolo::net
