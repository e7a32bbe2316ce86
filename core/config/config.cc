// Defaults and the layer merge. See config.hpp for the precedence rules.
#include "core/config/config.hpp"

#include "core/error.hpp"
#include <rustyolo/sdk/text.hpp>

#include <algorithm>
#include <cctype>

namespace rustyolo {

const char *to_string(Source source) {
    switch (source) {
    case Source::defaults: return "defaults";
    case Source::user_file: return "user config";
    case Source::project_file: return "project config";
    case Source::environment: return "environment";
    case Source::cli: return "command line";
    }
    return "unknown source";
}

ConfigLayer default_layer() {
    ConfigLayer layer;
    layer.source = Source::defaults;
    layer.origin = "defaults";
    layer.auth_home = "~/.config/rustyolo";
    layer.image = "rustyolo:latest";
    layer.agent = "claude";
    layer.memory = "4g";
    layer.cpus = "4";
    layer.pids_limit = "256";
    layer.seccomp_profile = "default";
    layer.audit_log = "basic";
    layer.audit_sinks = std::vector<std::string>{"file"};
    layer.audit_syslog_socket = "/dev/log";
    layer.audit_max_bytes = 64ull * 1024 * 1024;
    layer.allow_lan = false;
    // No runtime here: without one configured, the CLI takes the first name the first runtime
    // plugin serves (core/cli/context.cc).
    layer.firewall = "nftables";
    return layer;
}

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Adds the entries not yet present (compared case-insensitively), keeping the first spelling seen.
void add_domains(std::vector<std::string> &domains, const std::vector<std::string> &more) {
    for (const auto &entry : more) {
        const auto key = lowercase(entry);
        const bool present = std::any_of(domains.begin(), domains.end(),
                                         [&](const std::string &d) { return lowercase(d) == key; });
        if (!present) domains.push_back(entry);
    }
}

template <typename T>
void override_with(T &target, const std::optional<T> &value) {
    if (value) target = *value;
}

void append(std::vector<std::string> &target, const std::vector<std::string> &more) {
    target.insert(target.end(), more.begin(), more.end());
}

}  // namespace

Config merge(const std::vector<ConfigLayer> &layers) {
    Config config;
    for (const auto &layer : layers) {
        if (layer.allow_domains) add_domains(config.allow_domains, *layer.allow_domains);
        append(config.volumes, layer.volumes);
        append(config.env, layer.env);
        override_with(config.auth_home, layer.auth_home);
        override_with(config.image, layer.image);
        override_with(config.agent, layer.agent);
        override_with(config.memory, layer.memory);
        override_with(config.cpus, layer.cpus);
        override_with(config.pids_limit, layer.pids_limit);
        if (layer.tmp_size) config.tmp_size = layer.tmp_size;
        if (layer.home_size) config.home_size = layer.home_size;
        override_with(config.seccomp_profile, layer.seccomp_profile);
        override_with(config.dns_servers, layer.dns_servers);
        override_with(config.audit_log, layer.audit_log);
        override_with(config.audit_sinks, layer.audit_sinks);
        override_with(config.audit_syslog_socket, layer.audit_syslog_socket);
        override_with(config.audit_dir, layer.audit_dir);
        override_with(config.audit_max_bytes, layer.audit_max_bytes);
        if (layer.inject_message) config.inject_message = layer.inject_message;
        override_with(config.network, layer.network);
        override_with(config.allow_lan, layer.allow_lan);
        override_with(config.runtime, layer.runtime);
        override_with(config.firewall, layer.firewall);
        append(config.plugins, layer.plugins);
        append(config.image_packages, layer.image_packages);
        config.origins.push_back(layer.origin.empty() ? to_string(layer.source) : layer.origin);
    }
    return config;
}

namespace {

constexpr std::string_view kSinkPluginPrefix = "audit-";

bool plugin_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

std::vector<std::string> normalize_audit_sinks(const std::vector<std::string> &names, const std::string &origin) {
    if (names.empty())
        throw UsageError(origin + ": the list of audit sinks is empty; name at least one (file, syslog), "
                         "or set the audit level to none to write no records");
    std::vector<std::string> sinks;
    for (const auto &name : names) {
        std::string sink = name.rfind(kSinkPluginPrefix, 0) == 0 ? name.substr(kSinkPluginPrefix.size()) : name;
        if (sink.empty() || sink.size() > 64 || !std::all_of(sink.begin(), sink.end(), plugin_name_char))
            throw UsageError(origin + ": audit sink " + text::quoted(name, 80) +
                             " is not a sink name (lower-case letters, digits and '-'); the built-in sinks "
                             "are file and syslog");
        if (std::find(sinks.begin(), sinks.end(), sink) == sinks.end())
            sinks.push_back(std::move(sink));
    }
    return sinks;
}

std::uint64_t parse_audit_max_bytes(std::string_view value, const std::string &origin) {
    auto refuse = [&](const std::string &why) -> std::uint64_t {
        throw UsageError(origin + ": audit_max_bytes " + text::quoted(value, 80) + " " + why +
                         "; give a whole number of bytes with an optional k, m or g suffix, e.g. 64m "
                         "(at least 64k, at most 1024g)");
    };
    std::size_t digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9')
        ++digits;
    if (digits == 0)
        return refuse("is not a size");
    if (digits > 13)
        return refuse("is too large");
    std::uint64_t number = 0;
    for (std::size_t i = 0; i < digits; ++i)
        number = number * 10 + static_cast<std::uint64_t>(value[i] - '0');
    const std::string suffix = lowercase(value.substr(digits));
    std::uint64_t unit = 0;
    if (suffix.empty() || suffix == "b")
        unit = 1;
    else if (suffix == "k" || suffix == "kb" || suffix == "kib")
        unit = 1024;
    else if (suffix == "m" || suffix == "mb" || suffix == "mib")
        unit = 1024 * 1024;
    else if (suffix == "g" || suffix == "gb" || suffix == "gib")
        unit = 1024ull * 1024 * 1024;
    else
        return refuse("has an unknown unit " + text::quoted(value.substr(digits), 20));
    constexpr std::uint64_t kMax = 1024ull * 1024 * 1024 * 1024;
    if (number > kMax / unit)
        return refuse("is too large");
    const std::uint64_t bytes = number * unit;
    if (bytes < kMinAuditMaxBytes)
        return refuse("is too small");
    return bytes;
}

std::string audit_sink_plugin_name(const std::string &sink) { return std::string(kSinkPluginPrefix) + sink; }

}  // namespace rustyolo
