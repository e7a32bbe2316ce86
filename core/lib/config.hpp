// The one configuration model. Every source (defaults, user config, project config, environment,
// CLI flags) fills a ConfigLayer; layers are merged in precedence order into a Config.
#pragma once

#include <optional>
#include <string>
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

    // [security]
    std::optional<std::string> seccomp_profile;              // path, "default" or "none"
    std::optional<std::vector<std::string>> dns_servers;     // from a space-separated string; ["any"]
    std::optional<std::string> audit_log;                    // none | basic | verbose
    std::optional<std::string> inject_message;               // text or "none"

    // [network] / [runtime] (rustyolo additions)
    std::optional<std::string> network;                      // engine network name
    std::optional<bool> allow_lan;
    std::optional<std::string> runtime;                      // docker | podman
    std::optional<std::string> firewall;                     // nftables | iptables
    std::vector<std::string> plugins;                        // extra plugin files
};

// The merged result.
struct Config {
    std::vector<std::string> allow_domains;
    std::vector<std::string> volumes;
    std::vector<std::string> env;
    std::string auth_home;         // may start with "~/"
    std::string image;
    std::string agent;
    std::string memory;
    std::string cpus;
    std::string pids_limit;
    std::string seccomp_profile;
    std::vector<std::string> dns_servers;  // empty: what the engine gives the container
    std::string audit_log;
    std::optional<std::string> inject_message;  // nullopt: the agent's default message
    std::string network;
    bool allow_lan = false;
    std::string runtime;
    std::string firewall;
    std::vector<std::string> plugins;
    std::vector<std::string> origins;  // the layers that contributed, in order
};

// The built-in defaults (the seed's: 4g memory, 4 cpus, 256 pids, audit basic).
ConfigLayer default_layer();

// Merges layers in the order given (later wins for scalars, lists concatenate).
Config merge(const std::vector<ConfigLayer> &layers);

}  // namespace rustyolo
