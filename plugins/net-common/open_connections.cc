#include "plugins/net-common/open_connections.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace rustyolo::net {
namespace {

[[noreturn]] void fail(const std::string &step, int error) {
    std::string message = "ending open connections: " + step + ": " + std::strerror(error);
    if (error == EOPNOTSUPP)
        message += " (the kernel lacks CONFIG_INET_DIAG_DESTROY: open connections to denied addresses stay open "
                   "until they end; new ones are refused)";
    throw std::runtime_error(message);
}

struct Request {
    nlmsghdr header;
    inet_diag_req_v2 diag;
};

void send_request(int fd, std::uint16_t type, std::uint16_t flags, const inet_diag_req_v2 &diag) {
    Request request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = type;
    request.header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    request.diag = diag;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, &request, sizeof request, 0, reinterpret_cast<const sockaddr *>(&kernel), sizeof kernel) < 0)
        fail("sending to sock_diag", errno);
}

// Calls `each` for every message until NLMSG_DONE (dump) or the first NLMSG_ERROR (an ack).
// Returns the error of an NLMSG_ERROR (0 for an ack), or 0 at NLMSG_DONE.
template <class Each>
int read_messages(int fd, const Each &each) {
    alignas(nlmsghdr) std::array<char, 32768> buffer;
    for (;;) {
        ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("reading from sock_diag", errno);
        if (n == 0)
            return 0;
        auto length = static_cast<unsigned>(n);
        for (auto *header = reinterpret_cast<nlmsghdr *>(buffer.data()); NLMSG_OK(header, length);
             header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_DONE)
                return 0;
            if (header->nlmsg_type == NLMSG_ERROR) {
                const auto *error = static_cast<const nlmsgerr *>(NLMSG_DATA(header));
                return -error->error;
            }
            each(*header);
        }
    }
}

std::string text_of(int family, const void *address) {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, address, text, sizeof text);
    return text;
}

}  // namespace

std::size_t end_connections(const ConnectionFilter &ends) {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!fd)
        fail("socket(NETLINK_SOCK_DIAG)", errno);
    std::vector<inet_diag_sockid> doomed_ids;
    std::vector<int> doomed_families;
    for (int family : {AF_INET, AF_INET6}) {
        inet_diag_req_v2 dump{};
        dump.sdiag_family = static_cast<std::uint8_t>(family);
        dump.sdiag_protocol = IPPROTO_TCP;
        dump.idiag_states = 0xfff & ~(1u << TCP_LISTEN);
        send_request(fd.get(), SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, dump);
        int error = read_messages(fd.get(), [&](const nlmsghdr &header) {
            if (header.nlmsg_type != SOCK_DIAG_BY_FAMILY || header.nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
                return;
            const auto *message = static_cast<const inet_diag_msg *>(NLMSG_DATA(&header));
            bool v6 = message->idiag_family == AF_INET6;
            std::string address;
            if (v6) {
                in6_addr peer;
                std::memcpy(&peer, message->id.idiag_dst, sizeof peer);
                if (IN6_IS_ADDR_V4MAPPED(&peer)) {
                    v6 = false;
                    address = text_of(AF_INET, &peer.s6_addr[12]);
                } else {
                    address = text_of(AF_INET6, &peer);
                }
            } else {
                address = text_of(AF_INET, message->id.idiag_dst);
            }
            if (ends(v6, address, ntohs(message->id.idiag_dport))) {
                doomed_ids.push_back(message->id);
                doomed_families.push_back(message->idiag_family);
            }
        });
        if (error != 0)
            fail(family == AF_INET ? "listing IPv4 TCP sockets" : "listing IPv6 TCP sockets", error);
    }
    std::size_t ended = 0;
    for (std::size_t i = 0; i < doomed_ids.size(); ++i) {
        inet_diag_req_v2 destroy{};
        destroy.sdiag_family = static_cast<std::uint8_t>(doomed_families[i]);
        destroy.sdiag_protocol = IPPROTO_TCP;
        destroy.idiag_states = 0xffffffffu;
        destroy.id = doomed_ids[i];
        send_request(fd.get(), SOCK_DESTROY, NLM_F_ACK, destroy);
        int error = read_messages(fd.get(), [](const nlmsghdr &) {});
        if (error == ENOENT)
            continue;  // it closed meanwhile
        if (error != 0)
            fail("SOCK_DESTROY", error);
        ++ended;
    }
    return ended;
}

}  // namespace rustyolo::net
