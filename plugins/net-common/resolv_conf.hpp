// /etc/resolv.conf: the engine's resolvers are read from it before it is pointed at the DNS filter.
#pragma once

#include <rustyolo/sdk/plan.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::net {

inline constexpr const char *resolv_conf_path = kResolvConfContainerPath;
inline constexpr std::string_view stub_resolv_conf = kSandboxResolvConf;

// The engine's resolvers: from kEngineResolvConfContainerPath, which a runtime that makes the root
// filesystem read-only provides (its /etc/resolv.conf already names the filter), else from
// /etc/resolv.conf. Throws std::runtime_error when resolv.conf names only the filter itself.
std::vector<std::string> engine_nameservers();

// The "nameserver" addresses of resolv.conf text, in order. Scoped IPv6 addresses (fe80::1%eth0)
// are skipped: the filter cannot use them.
std::vector<std::string> parse_nameservers(std::string_view text);

// Reads the file. Throws std::runtime_error naming the path and errno.
std::string read_file(const std::string &path);

// Replaces the contents of `path` in place (Docker bind-mounts resolv.conf, so it cannot be
// renamed over) with `text`. Refuses a symlink. Throws std::runtime_error.
void write_resolv_conf(const std::string &path, std::string_view text);

// Points `path` at the filter: nothing to do when it already says exactly stub_resolv_conf (the
// runtime's read-only file), else write_resolv_conf(path, stub_resolv_conf).
void write_stub_resolv_conf(const std::string &path);

}  // namespace rustyolo::net
