#include "plugins/runtime-docker/session_file.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rustyolo::docker {

void write_session_file(const std::string &path, const std::string &text, bool overwrite, const std::string &what) {
    const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
    auto fail = [&](const char *action) {
        throw std::runtime_error("cannot " + std::string(action) + " " + what + " " + path + ": " +
                                 std::strerror(errno));
    };
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0)
        fail("create");
    bool ok = ::fchmod(fd, 0644) == 0;
    for (std::size_t done = 0; ok && done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            done += static_cast<std::size_t>(n);
    }
    const int saved = errno;
    ::close(fd);
    if (!ok) {
        errno = saved;
        fail("write");
    }
}

}  // namespace rustyolo::docker
