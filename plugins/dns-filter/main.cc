// rustyolo-dns-filter: the sandbox's only DNS resolver. Started by the net-nftables plugin (the
// supervisor) as uid/gid 65533 without capabilities; see server.hpp for what it does and
// feed_protocol.hpp for how it talks to the supervisor.
#include "plugins/dns-filter/filter_config.hpp"
#include "plugins/dns-filter/sandbox.hpp"
#include "plugins/dns-filter/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

void say(const std::string &message) {
    std::string line = "rustyolo-dns-filter: " + message + "\n";
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

void set_nonblocking(int fd, const char *what) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        throw std::runtime_error(std::string(what) + " (fd " + std::to_string(fd) + "): " + std::strerror(errno));
}

// --listen: bind our own sockets (tests and benchmarks, on an unprivileged port).
void bind_listeners(rustyolo::dns::FilterConfig &config) {
    rustyolo::dns::Upstream where = rustyolo::dns::parse_socket_address(config.listen, 53);
    const auto *address = reinterpret_cast<const sockaddr *>(&where.address);
    config.udp_fd = ::socket(where.address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    config.tcp_fd = ::socket(where.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (config.udp_fd < 0 || config.tcp_fd < 0 ||
        ::setsockopt(config.tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(config.udp_fd, address, where.length) != 0 || ::bind(config.tcp_fd, address, where.length) != 0 ||
        ::listen(config.tcp_fd, 64) != 0)
        throw std::runtime_error("--listen " + config.listen + ": " + std::strerror(errno));
}

}  // namespace

int main(int argc, char **argv) {
    try {
        std::vector<std::string> arguments(argv + 1, argv + argc);
        rustyolo::dns::FilterConfig config = rustyolo::dns::parse_arguments(arguments);
        rustyolo::dns::require_unprivileged();
        ::signal(SIGPIPE, SIG_IGN);
        if (!config.listen.empty())
            bind_listeners(config);
        set_nonblocking(config.udp_fd, "UDP socket");
        set_nonblocking(config.tcp_fd, "TCP socket");
        rustyolo::dns::enter_seccomp();
        rustyolo::dns::Server server(std::move(config));
        return server.run();
    } catch (const std::exception &e) {
        say(e.what());
        return 1;
    }
}
