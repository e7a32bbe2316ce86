// Reads a descriptor to its end, bounded: the one loop for files and pipes whose whole content is
// needed (a config file, a host file handed to a container, a child's report).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>

namespace rustyolo {

// The content of `fd` from its current offset to its end, or nullopt when it is longer than
// `max_bytes` (reading stops there), or `error` set on a read error (EINTR is retried).
struct ReadAll {
    std::optional<std::string> content;
    int error = 0;  // errno of a failed read, 0 otherwise
};

inline ReadAll read_all(int fd, std::size_t max_bytes) {
    ReadAll result;
    std::string content;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            result.error = errno;
            return result;
        }
        if (n == 0)
            break;
        content.append(buffer, static_cast<std::size_t>(n));
        if (content.size() > max_bytes)
            return result;
    }
    result.content = std::move(content);
    return result;
}

}  // namespace rustyolo
