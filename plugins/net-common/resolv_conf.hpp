// /etc/resolv.conf: the engine's resolvers are read from it before it is pointed at the DNS filter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::net {

inline constexpr const char *resolv_conf_path = "/etc/resolv.conf";
inline constexpr std::string_view stub_resolv_conf =
    "# rustyolo: the sandbox's DNS filter is the only resolver\nnameserver 127.0.0.1\n";

// The "nameserver" addresses of resolv.conf text, in order. Scoped IPv6 addresses (fe80::1%eth0)
// are skipped: the filter cannot use them.
std::vector<std::string> parse_nameservers(std::string_view text);

// Reads the file. Throws std::runtime_error naming the path and errno.
std::string read_file(const std::string &path);

// Replaces the contents of `path` in place (Docker bind-mounts resolv.conf, so it cannot be
// renamed over) with `text`. Refuses a symlink. Throws std::runtime_error.
void write_resolv_conf(const std::string &path, std::string_view text);

// write_resolv_conf(path, stub_resolv_conf).
void write_stub_resolv_conf(const std::string &path);

}  // namespace rustyolo::net
