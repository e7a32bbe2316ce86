#include "entrypoint/lifeline.hpp"

#include "entrypoint/setup_error.hpp"
#include "entrypoint/signals.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace rustyolo::entrypoint {

UniqueFd connect_lifeline(const std::string &path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path)
        throw std::runtime_error("the session socket path " + path + " is too long");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        throw_errno("socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot connect to the rustyolo CLI's session socket " + path + ": " +
                         std::strerror(errno) +
                         "; the container must be started by rustyolo, which watches it (a command "
                         "printed by --dry-run runs without that)");
    return fd;
}

void watch_lifeline(UniqueFd connection) {
    std::thread([fd = std::move(connection)]() mutable {
        char buffer[256];
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n > 0)
                continue;  // the CLI sends nothing yet; anything it sends is ignored
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        ::kill(::getpid(), lifeline_signal());
    }).detach();
}

}  // namespace rustyolo::entrypoint
