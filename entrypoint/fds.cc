#include "entrypoint/fds.hpp"

#include "entrypoint/setup_error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <vector>

namespace rustyolo::entrypoint {

void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd)
        if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            ::open("/dev/null", O_RDWR);  // takes the lowest free number: fd
}

void close_inherited_fds(int keep) {
    const bool ranges_closed =
        keep > 3 ? ::syscall(SYS_close_range, 3U, static_cast<unsigned>(keep - 1), 0U) == 0 &&
                       ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0U, 0U) == 0
        : keep == 3 ? ::syscall(SYS_close_range, 4U, ~0U, 0U) == 0
                    : ::syscall(SYS_close_range, 3U, ~0U, 0U) == 0;
    if (ranges_closed)
        return;
    if (errno != ENOSYS && errno != EPERM)
        throw_errno("close_range");
    DIR *dir = ::opendir("/proc/self/fd");
    if (!dir)
        throw_errno("opendir /proc/self/fd");
    std::vector<int> open_fds;
    while (const dirent *entry = ::readdir(dir)) {
        int fd = -1;
        const char *end = entry->d_name + std::strlen(entry->d_name);
        auto [ptr, ec] = std::from_chars(entry->d_name, end, fd);
        if (ec == std::errc() && ptr == end && fd > 2 && fd != ::dirfd(dir) && fd != keep)
            open_fds.push_back(fd);
    }
    ::closedir(dir);
    for (int fd : open_fds)
        ::close(fd);
}

}  // namespace rustyolo::entrypoint
