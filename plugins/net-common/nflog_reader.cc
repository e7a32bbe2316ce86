#include "plugins/net-common/nflog_reader.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

extern "C" {
#include <libnetfilter_log/libnetfilter_log.h>
}

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace rustyolo::net {
namespace {

constexpr std::uint8_t ip_tcp = 6, ip_udp = 17, ip_icmp = 1, ip_icmpv6 = 58, ip_udplite = 136, ip_sctp = 132,
                       ip_dccp = 33;

bool has_ports(std::uint8_t protocol) {
    return protocol == ip_tcp || protocol == ip_udp || protocol == ip_udplite || protocol == ip_sctp ||
           protocol == ip_dccp;
}

std::uint16_t read16(const std::uint8_t *p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// Ports from the transport header at `l4` (the same layout for every protocol in has_ports()).
void read_ports(PacketHeaders &h, const std::uint8_t *data, std::size_t length, std::size_t l4) {
    if (!has_ports(h.protocol) || l4 + 4 > length)
        return;
    h.source_port = read16(data + l4);
    h.destination_port = read16(data + l4 + 2);
    h.has_ports = true;
}

std::runtime_error nflog_error(const std::string &step) {
    return std::runtime_error("NFLOG group " + std::to_string(nflog_group) + ": " + step + " failed: " +
                              std::strerror(errno));
}

}  // namespace

PacketHeaders parse_packet_headers(const std::uint8_t *data, std::size_t length) {
    PacketHeaders h;
    if (!data || length < 1)
        return h;
    unsigned version = data[0] >> 4;
    if (version == 4 && length >= 20) {
        std::size_t header = static_cast<std::size_t>(data[0] & 0x0f) * 4;
        if (header < 20)
            return h;
        h.family = 4;
        h.protocol = data[9];
        ::inet_ntop(AF_INET, data + 12, h.source, sizeof h.source);
        ::inet_ntop(AF_INET, data + 16, h.destination, sizeof h.destination);
        bool first_fragment = (read16(data + 6) & 0x1fff) == 0;
        if (first_fragment)
            read_ports(h, data, length, header);
        return h;
    }
    if (version == 6 && length >= 40) {
        h.family = 6;
        ::inet_ntop(AF_INET6, data + 8, h.source, sizeof h.source);
        ::inet_ntop(AF_INET6, data + 24, h.destination, sizeof h.destination);
        std::uint8_t next = data[6];
        std::size_t at = 40;
        bool first_fragment = true;
        // Extension headers up to the transport header (a bounded walk over what was copied).
        for (int hops = 0; hops < 8; ++hops) {
            if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
                if (at + 2 > length)
                    break;
                std::uint8_t following = data[at];
                at += (static_cast<std::size_t>(data[at + 1]) + 1) * 8;
                next = following;
            } else if (next == 44) {  // fragment
                if (at + 8 > length)
                    break;
                first_fragment = (read16(data + at + 2) & 0xfff8) == 0;
                next = data[at];
                at += 8;
            } else if (next == 51) {  // authentication header
                if (at + 2 > length)
                    break;
                std::uint8_t following = data[at];
                at += (static_cast<std::size_t>(data[at + 1]) + 2) * 4;
                next = following;
            } else {
                break;
            }
        }
        h.protocol = next;
        if (first_fragment)
            read_ports(h, data, length, at);
        return h;
    }
    return h;
}

std::string_view protocol_name(std::uint8_t protocol, char (&buffer)[4]) {
    switch (protocol) {
    case ip_tcp: return "tcp";
    case ip_udp: return "udp";
    case ip_icmp: return "icmp";
    case ip_icmpv6: return "icmpv6";
    case ip_udplite: return "udplite";
    case ip_sctp: return "sctp";
    case ip_dccp: return "dccp";
    default: break;
    }
    int n = 0;
    unsigned value = protocol;
    char digits[3];
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value);
    for (int i = 0; i < n; ++i)
        buffer[i] = digits[n - 1 - i];
    buffer[n] = '\0';
    return std::string_view(buffer, static_cast<std::size_t>(n));
}

NflogReader::NflogReader(std::uint16_t group, Handler handler, std::uint32_t copy_bytes, int receive_buffer)
    : handler_(std::move(handler)) {
    stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_)
        throw nflog_error("eventfd");
    handle_ = ::nflog_open();
    if (!handle_)
        throw nflog_error("opening the netlink socket (nflog_open)");
    try {
        group_ = ::nflog_bind_group(handle_, group);
        if (!group_)
            throw nflog_error("binding the group (another listener holds it? the supervisor needs CAP_NET_ADMIN)");
        if (::nflog_set_mode(group_, NFULNL_COPY_PACKET, copy_bytes) < 0)
            throw nflog_error("setting the copy range");
        // Flush to the socket every 64 messages or 10 ms, in messages of up to 64 KiB. (The end
        // of a session waits for the messages of its last drops: at most this long.)
        if (::nflog_set_qthresh(group_, 64) < 0 || ::nflog_set_timeout(group_, 1) < 0 ||
            ::nflog_set_nlbufsiz(group_, 65536) < 0)
            throw nflog_error("setting the flush thresholds");
        if (::nflog_callback_register(group_, &NflogReader::on_message, this) < 0)
            throw nflog_error("registering the callback");
        int fd = ::nflog_fd(handle_);
        // The supervisor holds CAP_NET_ADMIN: the buffer may exceed net.core.rmem_max.
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer) != 0 &&
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) != 0)
            throw nflog_error("setting the receive buffer");
    } catch (...) {
        if (group_)
            ::nflog_unbind_group(group_);
        ::nflog_close(handle_);
        throw;
    }
}

NflogReader::~NflogReader() {
    stop();
    if (group_)
        ::nflog_unbind_group(group_);
    if (handle_)
        ::nflog_close(handle_);
}

void NflogReader::start() {
    if (!thread_.joinable()) {
        running_.store(true);
        thread_ = std::thread([this] {
            run();
            running_.store(false);
        });
    }
}

void NflogReader::stop() {
    if (thread_.joinable()) {
        std::uint64_t one = 1;
        ssize_t ignored = ::write(stop_.get(), &one, sizeof one);
        (void)ignored;
        thread_.join();
    }
}

bool NflogReader::wait_received(std::uint64_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return progress_.wait_for(lock, timeout, [&] { return received_.load() >= count; });
}

int NflogReader::on_message(nflog_g_handle *, nfgenmsg *, nflog_data *data, void *self_ptr) {
    auto *self = static_cast<NflogReader *>(self_ptr);
    BlockedPacket packet;
    char *payload = nullptr;
    int length = ::nflog_get_payload(data, &payload);
    if (length > 0 && payload)
        packet.headers = parse_packet_headers(reinterpret_cast<const std::uint8_t *>(payload),
                                              static_cast<std::size_t>(length));
    const char *prefix = ::nflog_get_prefix(data);
    packet.prefix = prefix ? std::string_view(prefix) : std::string_view();
    std::uint32_t uid = 0;
    if (::nflog_get_uid(data, &uid) == 0) {
        packet.has_uid = true;
        packet.uid = uid;
    }
    std::uint32_t gid = 0;
    if (::nflog_get_gid(data, &gid) == 0) {
        packet.has_gid = true;
        packet.gid = gid;
    }
    try {
        self->handler_(packet);
    } catch (...) {
        // A failing report must not stop the reader; the message still counts as received.
    }
    self->received_.fetch_add(1);
    return 0;
}

void NflogReader::run() {
    std::vector<char> buffer(256 * 1024);
    const int fd = ::nflog_fd(handle_);
    for (;;) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents)
            return;
        for (;;) {
            ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == ENOBUFS)  // the kernel dropped messages: the counters keep the total
                    continue;
                if (errno == EINTR)
                    continue;
                break;  // EAGAIN: drained
            }
            if (n == 0)
                break;
            ::nflog_handle_packet(handle_, buffer.data(), static_cast<int>(n));
        }
        {
            std::lock_guard lock(mutex_);
        }
        progress_.notify_all();
    }
}

}  // namespace rustyolo::net
