// Writes a whole buffer to a socket. MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE (which
// would end the supervisor or the CLI).
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <string_view>

namespace rustyolo {

// False when the peer is gone or a send failed (errno tells why; SO_SNDTIMEO gives EAGAIN).
inline bool send_all(int fd, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace rustyolo
