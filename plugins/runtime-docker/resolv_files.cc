#include "plugins/runtime-docker/resolv_files.hpp"

#include "plugins/runtime-docker/session_file.hpp"

#include <rustyolo/sdk/read_all.hpp>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

namespace rustyolo::docker {

namespace {

constexpr const char *kHostResolvConf = "/etc/resolv.conf";
constexpr const char *kSystemdResolvConf = "/run/systemd/resolve/resolv.conf";

bool is_loopback_or_v6(const std::string &address) {
    in_addr v4{};
    if (::inet_pton(AF_INET, address.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return true;  // IPv6 (or not an address at all): the sandbox cannot use it
}

}  // namespace

std::optional<std::string> read_host_file(const std::string &path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    }
    constexpr std::size_t kMaxBytes = 1u << 20;
    ReadAll read = read_all(fd, kMaxBytes);
    ::close(fd);
    if (read.error != 0)
        throw std::runtime_error("cannot read " + path + ": " + std::strerror(read.error));
    if (!read.content)
        throw std::runtime_error(path + " is larger than " + std::to_string(kMaxBytes) +
                                 " bytes, more than a resolver file holds; check what it is");
    std::string text = std::move(*read.content);
    return text;
}

std::vector<std::string> resolv_conf_nameservers(const std::string &text) {
    std::vector<std::string> servers;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (const std::size_t comment = line.find_first_of("#;"); comment != std::string::npos)
            line.resize(comment);
        std::istringstream words(line);
        std::string keyword, address;
        if (words >> keyword >> address && keyword == "nameserver")
            servers.push_back(address);
    }
    return servers;
}

std::vector<std::string> engine_nameservers(const std::string &engine_network, const ReadFileFn &read) {
    if (!engine_network.empty() && engine_network != "bridge" && engine_network != "none")
        return {"127.0.0.11"};
    std::vector<std::string> servers;
    if (auto text = read(kHostResolvConf)) {
        servers = resolv_conf_nameservers(*text);
        if (servers == std::vector<std::string>{"127.0.0.53"})
            if (auto upstream = read(kSystemdResolvConf))
                servers = resolv_conf_nameservers(*upstream);
    }
    std::vector<std::string> usable;
    for (const std::string &server : servers)
        if (!is_loopback_or_v6(server))
            usable.push_back(server);
    if (usable.empty())
        usable = {"8.8.8.8", "8.8.4.4"};
    return usable;
}

ResolvFiles write_resolv_files(const Plan &plan, const std::string &session_dir, bool overwrite,
                               const ReadFileFn &read) {
    if (session_dir.empty())
        throw std::invalid_argument(
            "runtime request: runtime_dir is required for the container's read-only /etc/resolv.conf");
    ResolvFiles files{session_dir + "/" + kSandboxResolvConfName, {}};
    write_session_file(files.sandbox, kSandboxResolvConf, overwrite, "the sandbox's resolv.conf");
    if (plan.network.dns_servers.empty()) {
        std::string text = "# rustyolo: the engine's resolvers, the DNS filter's upstreams\n";
        for (const std::string &server : engine_nameservers(plan.network.engine_network, read))
            text += "nameserver " + server + "\n";
        files.engine = session_dir + "/" + kEngineResolvConfName;
        write_session_file(files.engine, text, overwrite, "the engine's resolvers");
    }
    return files;
}

}  // namespace rustyolo::docker
