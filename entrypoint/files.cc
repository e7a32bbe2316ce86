#include "entrypoint/files.hpp"

#include "entrypoint/setup_error.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

namespace rustyolo::entrypoint {

std::string read_regular_file(const std::string &path, std::size_t max_size, const std::string &missing_hint) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        const int error = errno;
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(error) +
                                 (error == ENOENT && !missing_hint.empty() ? " (" + missing_hint + ")" : ""));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno("cannot stat " + path);
    if (!S_ISREG(st.st_mode))
        throw std::runtime_error(path + " is not a regular file");
    const std::string too_large = path + " is larger than " + std::to_string(max_size) + " bytes";
    if (static_cast<std::size_t>(st.st_size) > max_size)
        throw std::runtime_error(too_large);
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("cannot read " + path);
        if (n == 0)
            return text;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_size)
            throw std::runtime_error(too_large);
    }
}

}  // namespace rustyolo::entrypoint
