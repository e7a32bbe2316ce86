// The one configuration model. Every source (defaults, user config, project config, environment,
// CLI flags) fills a ConfigLayer; layers are merged in precedence order into a Config.
#pragma once

#include "core/private_header.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo {

// Where a value came from, for error messages and `rustyolo plan`.
enum class Source { defaults, user_file, project_file, environment, cli };
const char *to_string(Source source);

// One source's settings. An unset optional means "this source says nothing".
// Lists (volumes, env, plugins) from several layers are concatenated; allow_domains likewise
// (the union, as the seed adds the agent's domains to the user's); scalars are overridden.
struct ConfigLayer {
    Source source = Source::defaults;
    std::string origin;  // file path, "environment", "command line", "defaults"

    // [default]
    std::optional<std::vector<std::string>> allow_domains;  // from a space-separated string
    std::vector<std::string> volumes;                        // "host:container[:ro|rw]"
    std::vector<std::string> env;                            // "KEY=VALUE" or "KEY"
    std::optional<std::string> auth_home;
    std::optional<std::string> image;
    std::optional<std::string> agent;

    // [resources]
    std::optional<std::string> memory;
    std::optional<std::string> cpus;
    std::optional<std::string> pids_limit;
    std::optional<std::string> tmp_size;
    std::optional<std::string> home_size;

    // [security]
    std::optional<std::string> seccomp_profile;              // path, "default" or "none"
    std::optional<std::vector<std::string>> dns_servers;     // from a space-separated string; ["any"]
    std::optional<std::string> audit_log;                    // none | basic | verbose
    std::optional<std::string> inject_message;               // text or "none"
    std::optional<std::vector<std::string>> audit_sinks;     // sink names (normalize_audit_sinks)
    std::optional<std::string> audit_syslog_socket;          // the syslog sink's datagram socket
    std::optional<std::string> audit_dir;                    // the file sink's directory
    std::optional<std::uint64_t> audit_max_bytes;            // the file sink's cap (parse_audit_max_bytes)

    // [network] / [runtime] (rustyolo additions)
    std::optional<std::string> network;                      // engine network name
    std::optional<bool> allow_lan;
    std::optional<std::string> runtime;                      // a name a runtime plugin serves
    std::optional<std::string> firewall;                     // nftables | iptables
    std::vector<std::string> plugins;                        // extra plugin files

    // [image]
    std::vector<std::string> image_packages;                 // Debian packages (debian_package_name)
};

// The merged result.
struct Config {
    std::vector<std::string> allow_domains;
    std::vector<std::string> volumes;
    std::vector<std::string> env;
    std::string auth_home;         // may start with "~/"
    std::string image;
    std::vector<std::string> image_packages;  // extra Debian packages for `rustyolo image build`
    std::string agent;
    std::string memory;
    std::string cpus;
    std::string pids_limit;
    // Unset: the resource plugin's default (a quarter of the memory limit). Set, even to "", it is
    // the plugin's to parse (and refuse).
    std::optional<std::string> tmp_size;
    std::optional<std::string> home_size;  // likewise
    std::string seccomp_profile;
    std::vector<std::string> dns_servers;  // empty: what the engine gives the container
    std::string audit_log;
    // The audit sinks, by short name ("file" is the plugin audit-file; see audit_sink_plugin_name()),
    // each once, in the order given. Not empty.
    std::vector<std::string> audit_sinks;
    std::string audit_syslog_socket;  // default "/dev/log"
    std::string audit_dir;            // empty: the default (audit_directory() in audit_paths.hpp)
    std::uint64_t audit_max_bytes = 0;  // the file sink's cap per session (default 64 MiB)
    std::optional<std::string> inject_message;  // nullopt: the agent's default message
    std::string network;
    bool allow_lan = false;
    std::string runtime;
    std::string firewall;
    std::vector<std::string> plugins;
    std::vector<std::string> origins;  // the layers that contributed, in order
};

// The built-in defaults (the seed's: 4g memory, 4 cpus, 256 pids, audit basic; rustyolo's: the
// file audit sink, syslog at /dev/log).
ConfigLayer default_layer();

// Audit sink names as a user gives them ("file", "syslog", or the full plugin name "audit-file"),
// in their short form, each once, in the order given. Throws UsageError naming `origin` and the
// value when a name is not a plugin name ([a-z0-9-]+) or the list is empty.
std::vector<std::string> normalize_audit_sinks(const std::vector<std::string> &names, const std::string &origin);

// [security] audit_max_bytes: a whole number of bytes with an optional binary suffix, k, m or g
// (also kb/kib, mb/mib, gb/gib; any case): "65536", "512k", "64m", "1g". At least 64 KiB (room for
// the session's first and last records), at most 1 TiB. Throws UsageError naming `origin` and the
// value otherwise ("0", "-1", "1e12", "4g;x", "64 m", "").
std::uint64_t parse_audit_max_bytes(std::string_view value, const std::string &origin);
inline constexpr std::uint64_t kMinAuditMaxBytes = 64 * 1024;

// The plugin that serves an audit sink: "file" → "audit-file".
std::string audit_sink_plugin_name(const std::string &sink);

// Merges layers in the order given (later wins for scalars, lists concatenate).
Config merge(const std::vector<ConfigLayer> &layers);


}  // namespace rustyolo
