#include "plugins/net-common/resolv_conf.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace rustyolo::net {

std::vector<std::string> parse_nameservers(std::string_view text) {
    std::vector<std::string> servers;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (std::size_t comment = line.find_first_of("#;"); comment != std::string::npos)
            line.resize(comment);
        std::istringstream words(line);
        std::string keyword, address;
        if (!(words >> keyword >> address) || keyword != "nameserver")
            continue;
        if (address.find('%') != std::string::npos)
            continue;
        servers.push_back(address);
    }
    return servers;
}

std::string read_file(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    std::string text;
    char buffer[4096];
    while (true) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
        if (n == 0)
            return text;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > (1u << 20))
            throw std::runtime_error(path + " is larger than 1 MiB");
    }
}

void write_stub_resolv_conf(const std::string &path) {
    if (read_file(path) == stub_resolv_conf)
        return;
    write_resolv_conf(path, stub_resolv_conf);
}

std::vector<std::string> engine_nameservers() {
    struct stat st {};
    const bool provided = ::lstat(kEngineResolvConfContainerPath, &st) == 0;
    const std::string path = provided ? kEngineResolvConfContainerPath : resolv_conf_path;
    const std::string text = read_file(path);
    if (!provided && text == stub_resolv_conf)
        throw std::runtime_error(path + " names only the sandbox's DNS filter and the runtime gave no " +
                                 kEngineResolvConfContainerPath +
                                 ", so the engine's resolvers are unknown; pass --dns-servers ADDRESS");
    return parse_nameservers(text);
}

void write_resolv_conf(const std::string &path, std::string_view text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno) +
                                 (errno == ELOOP ? " (it is a symlink)" : ""));
    if (::ftruncate(fd.get(), 0) != 0)
        throw std::runtime_error("cannot truncate " + path + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::pwrite(fd.get(), text.data() + done, text.size() - done,
                             static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), 0644) != 0)
        throw std::runtime_error("cannot chmod " + path + ": " + std::strerror(errno));
}

}  // namespace rustyolo::net
