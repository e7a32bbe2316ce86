// The DNS files the runtime gives a container whose root filesystem is read-only: the engine
// forces its own /etc/resolv.conf read-only there, so the supervisor could not point it at the
// sandbox's DNS filter. Instead the runtime mounts, read-only, a resolv.conf naming only the filter
// (kSandboxResolvConf), and, when the Plan names no upstream resolvers, tells the supervisor the
// engine's (a read-only file at kEngineResolvConfContainerPath), as the engine would have given them:
//   - on a user-defined network, the engine's embedded resolver 127.0.0.11;
//   - on the default bridge (and "none"), the host's resolv.conf (systemd-resolved's upstream file
//     when the host names only its stub 127.0.0.53) without loopback and IPv6 servers (the
//     sandbox has no IPv6), or, when none is left, the engine's fallback 8.8.8.8 and 8.8.4.4.
// The engine daemon's own "dns" setting (daemon.json) is not read: pass --dns-servers with it.
#pragma once

#include <rustyolo/sdk/plan.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rustyolo::docker {

// Reads a host file; nullopt when it does not exist. Throws when it exists but cannot be read.
using ReadFileFn = std::function<std::optional<std::string>(const std::string &path)>;

std::optional<std::string> read_host_file(const std::string &path);

// The nameserver addresses the engine would give the container, in order (see above).
std::vector<std::string> engine_nameservers(const std::string &engine_network, const ReadFileFn &read = read_host_file);

// The "nameserver" addresses of resolv.conf text, in order (comments and other keywords skipped).
std::vector<std::string> resolv_conf_nameservers(const std::string &text);

struct ResolvFiles {
    std::string sandbox;  // host path of the file for /etc/resolv.conf
    std::string engine;   // host path of the engine's resolvers; "" when the Plan names its own
};

// Writes <session_dir>/resolv.conf (kSandboxResolvConf) and, when plan.network.dns_servers is
// empty, <session_dir>/engine-resolv.conf; mode 0644, never through a symlink. A file there is
// replaced only when `overwrite` (a --dry-run's reused dir). Throws std::invalid_argument without
// a session dir, std::runtime_error naming the file.
ResolvFiles write_resolv_files(const Plan &plan, const std::string &session_dir, bool overwrite,
                               const ReadFileFn &read = read_host_file);

}  // namespace rustyolo::docker
