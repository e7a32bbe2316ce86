// Environment variables → ConfigLayer, and the XDG locations.
#include "core/config/config_env.hpp"

#include <iterator>
#include <optional>
#include <sstream>

#include "core/error.hpp"

namespace rustyolo {

namespace {

// The variable's value, or nullopt when it is unset or empty.
std::optional<std::string> lookup(const GetenvFn &getenv_fn, const char *name) {
    const char *value = getenv_fn(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
}

std::optional<std::vector<std::string>> lookup_words(const GetenvFn &getenv_fn, const char *name) {
    const auto value = lookup(getenv_fn, name);
    if (!value) return std::nullopt;
    std::istringstream stream(*value);
    std::vector<std::string> words{std::istream_iterator<std::string>(stream),
                                   std::istream_iterator<std::string>()};
    if (words.empty()) return std::nullopt;  // only blanks: as good as empty
    return words;
}

// An absolute directory from `xdg_name`, else $HOME + `home_suffix`; empty when neither is usable.
std::string xdg_dir(const GetenvFn &getenv_fn, const char *xdg_name, const char *home_suffix) {
    if (const auto xdg = lookup(getenv_fn, xdg_name); xdg && xdg->front() == '/') return *xdg;
    if (const auto home = lookup(getenv_fn, "HOME")) return *home + home_suffix;
    return {};
}

}  // namespace

ConfigLayer environment_layer(const GetenvFn &getenv_fn) {
    ConfigLayer layer;
    layer.source = Source::environment;
    layer.origin = "environment";
    layer.allow_domains = lookup_words(getenv_fn, "TRUSTED_DOMAINS");
    layer.dns_servers = lookup_words(getenv_fn, "RUSTYOLO_DNS_SERVERS");
    layer.image = lookup(getenv_fn, "RUSTYOLO_IMAGE");
    layer.agent = lookup(getenv_fn, "RUSTYOLO_AGENT");
    layer.memory = lookup(getenv_fn, "RUSTYOLO_MEMORY");
    layer.cpus = lookup(getenv_fn, "RUSTYOLO_CPUS");
    layer.pids_limit = lookup(getenv_fn, "RUSTYOLO_PIDS_LIMIT");
    layer.tmp_size = lookup(getenv_fn, "RUSTYOLO_TMP_SIZE");
    layer.home_size = lookup(getenv_fn, "RUSTYOLO_HOME_SIZE");
    layer.audit_log = lookup(getenv_fn, "RUSTYOLO_AUDIT_LOG");
    layer.network = lookup(getenv_fn, "RUSTYOLO_NETWORK");
    layer.runtime = lookup(getenv_fn, "RUSTYOLO_RUNTIME");
    layer.auth_home = lookup(getenv_fn, "RUSTYOLO_AUTH_HOME");
    if (auto sinks = lookup_words(getenv_fn, "RUSTYOLO_AUDIT_SINKS"))
        layer.audit_sinks = normalize_audit_sinks(*sinks, "RUSTYOLO_AUDIT_SINKS");
    layer.audit_syslog_socket = lookup(getenv_fn, "RUSTYOLO_AUDIT_SYSLOG_SOCKET");
    layer.audit_dir = lookup(getenv_fn, "RUSTYOLO_AUDIT_DIR");
    if (auto max = lookup(getenv_fn, "RUSTYOLO_AUDIT_MAX_BYTES"))
        layer.audit_max_bytes = parse_audit_max_bytes(*max, "RUSTYOLO_AUDIT_MAX_BYTES");
    return layer;
}

std::string user_config_path(const GetenvFn &getenv_fn) {
    const auto dir = xdg_dir(getenv_fn, "XDG_CONFIG_HOME", "/.config");
    if (dir.empty()) return {};
    return dir + "/rustyolo/config.toml";
}

std::string state_dir(const GetenvFn &getenv_fn) {
    const auto dir = xdg_dir(getenv_fn, "XDG_STATE_HOME", "/.local/state");
    if (dir.empty()) {
        throw UsageError("cannot find a state directory: neither XDG_STATE_HOME (absolute) nor HOME is set; "
                         "set HOME or XDG_STATE_HOME");
    }
    return dir + "/rustyolo";
}

}  // namespace rustyolo
