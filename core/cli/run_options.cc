#include "core/cli/run_options.hpp"

#include <optional>
#include <sstream>

namespace rustyolo::cli {

namespace {

std::vector<std::string> split_words(const std::string &text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;)
        words.push_back(w);
    return words;
}

template <class T>
void set_if(const CLI::App &app, const char *name, std::optional<T> &field, const T &value) {
    if (app.count(name) > 0)
        field = value;
}

}  // namespace

std::unique_ptr<CLI::App> make_run_app(RunOptions &options) {
    auto app = std::make_unique<CLI::App>(
        "rustyolo runs an AI coding agent with every permission prompt skipped (\"YOLO mode\") inside\n"
        "a hardened container: it can do anything to the project and nothing to the rest of the\n"
        "machine or the network.\n\n"
        "Usage:\n"
        "  rustyolo [OPTIONS] [AGENT] [OPTIONS] [--] [AGENT ARGS...]\n"
        "  rustyolo [OPTIONS] exec -- COMMAND [ARGS...]   run any command under the agent policy\n"
        "  rustyolo [OPTIONS] shell                        interactive shell under the agent policy\n"
        "  rustyolo [OPTIONS] plan [AGENT] [...]           print the session's Plan (JSON)\n"
        "  rustyolo plugins                                list plugins, versions and hooks\n"
        "  rustyolo trust [FILE]                           trust a project's .rustyolo.toml\n"
        "  rustyolo audit [show SESSION|latest] [--follow] past sessions' audit records\n"
        "  rustyolo image build [--base-image IMAGE]       build the sandbox image\n"
        "  rustyolo update [--image] [--binary]            update the image / how to upgrade\n\n"
        "AGENT defaults to claude. Args after the agent name (or after --) replace its default\n"
        "YOLO args, e.g. `rustyolo claude -- --version`.",
        "rustyolo");
    app->set_version_flag("--version", std::string("rustyolo ") + RUSTYOLO_VERSION);
    app->footer("Configuration: defaults < ~/.config/rustyolo/config.toml < ./.rustyolo.toml (may only "
                "narrow the policy unless trusted) < environment (TRUSTED_DOMAINS, RUSTYOLO_*) < "
                "options. See docs/user-guide.md.");
    auto &s = options.raw;
    auto &l = options.layer;
    app->add_option("-v,--volume", l.volumes, "Mount HOST:CONTAINER[:ro|rw] (checked by the mount guard)")
        ->type_name("SPEC");
    app->add_option("-e,--env", l.env, "Pass NAME=VALUE, or NAME from your environment")->type_name("VAR");
    app->add_option("--allow-domains", s.allow_domains,
                    "Space-separated allow entries: name (TCP 80/443), name:port, *.suffix, CIDR. "
                    "The agent's own domains are added automatically")
        ->type_name("LIST");
    app->add_option("--auth-home", s.auth_home, "Host dir for persistent agent state (default ~/.config/rustyolo)")
        ->type_name("DIR");
    app->add_option("--image", s.image, "The sandbox image (default rustyolo:latest)")->type_name("IMAGE");
    app->add_option("--inject-message", s.inject_message,
                    "Sandbox message appended to the agent's system prompt, or \"none\"")
        ->type_name("TEXT");
    app->add_option("--seccomp-profile", s.seccomp_profile,
                    "A seccomp profile in the engine's JSON format, \"default\", or \"none\" (disables it, loudly)")
        ->type_name("FILE");
    app->add_option("--memory", s.memory, "Memory limit: 4g, 512m, or unlimited (default 4g)")->type_name("SIZE");
    app->add_option("--cpus", s.cpus, "CPU limit: 4, 0.5, or unlimited (default 4)")->type_name("N");
    app->add_option("--pids-limit", s.pids_limit, "Process limit, or unlimited (default 256)")->type_name("N");
    app->add_option("--tmp-size", s.tmp_size, "Size of the /tmp tmpfs: 1g, 512m (default: a quarter of --memory)")
        ->type_name("SIZE");
    app->add_option("--home-size", s.home_size,
                    "Size of the agent's home tmpfs: 1g, 512m (default: a quarter of --memory)")
        ->type_name("SIZE");
    app->add_option("--dns-servers", s.dns_servers,
                    "Space-separated upstream resolvers for the DNS filter (default: the engine's); "
                    "\"any\" stops filtering names (not recommended)")
        ->type_name("LIST");
    app->add_option("--audit-log", s.audit_log, "none | basic (blocked actions, default) | verbose")
        ->type_name("LEVEL");
    app->add_option("--audit-sink", s.audit_sinks,
                    "Where audit records go: file (default), syslog, or another sink plugin's name; "
                    "repeat for several (replaces the configured list)")
        ->type_name("NAME");
    app->add_option("--audit-syslog-socket", s.audit_syslog_socket,
                    "The syslog sink's datagram socket (default /dev/log)")
        ->type_name("PATH");
    app->add_option("--audit-dir", s.audit_dir,
                    "The file sink's directory (default ~/.local/state/rustyolo/audit)")
        ->type_name("DIR");
    app->add_option("--audit-max-bytes", s.audit_max_bytes,
                    "The most the file sink writes for one session: 64m (default), 512k, 1g; past it, "
                    "detail is dropped and counted, the totals stay exact")
        ->type_name("SIZE");
    app->add_flag("--dry-run", options.dry_run, "Print the exact runtime command (shell-quoted) and exit");
    app->add_flag("--skip-version-check", options.skip_version_check,
                  "Accepted for compatibility; rustyolo never contacts a server to check versions");
    app->add_option("--plugin", l.plugins, "Load a plugin: a file path (./myagent.so) or a trusted name")
        ->type_name("FILE");
    app->add_option("--network", s.network, "The engine network to attach to (default: the engine's)")
        ->type_name("NAME");
    app->add_flag("--allow-lan", s.allow_lan, "Allow private-range (LAN) destinations");
    app->add_option("--runtime", s.runtime,
                    "A runtime a runtime plugin serves (default: the configured one; `rustyolo plugins` lists them)")
        ->type_name("NAME");
    app->add_option("--firewall", s.firewall, "nftables (default) or iptables")->type_name("NAME");
    app->add_flag("--debug", options.debug, "Log what rustyolo does");
    return app;
}

OptionTable option_table(const CLI::App &app) {
    OptionTable table;
    for (const CLI::Option *opt : app.get_options()) {
        std::vector<std::string> names;
        for (const auto &n : opt->get_lnames())
            names.push_back("--" + n);
        for (const auto &n : opt->get_snames())
            names.push_back("-" + n);
        bool is_meta = false;
        for (const auto &n : names)
            if (n == "--help" || n == "-h" || n == "--version")
                is_meta = true;
        if (is_meta)
            continue;
        for (const auto &n : names)
            (opt->get_type_size() > 0 && opt->get_expected_min() > 0 ? table.with_value : table.flags).insert(n);
    }
    return table;
}

void finish(RunOptions &options, const CLI::App &app) {
    auto &l = options.layer;
    l.source = Source::cli;
    l.origin = "command line";
    const auto &s = options.raw;
    if (app.count("--allow-domains") > 0) {
        std::vector<std::string> all;
        for (const auto &raw : s.allow_domains)
            for (auto &w : split_words(raw))
                all.push_back(std::move(w));
        l.allow_domains = all;
    }
    if (app.count("--dns-servers") > 0)
        l.dns_servers = split_words(s.dns_servers);
    set_if(app, "--auth-home", l.auth_home, s.auth_home);
    set_if(app, "--image", l.image, s.image);
    set_if(app, "--inject-message", l.inject_message, s.inject_message);
    set_if(app, "--seccomp-profile", l.seccomp_profile, s.seccomp_profile);
    set_if(app, "--memory", l.memory, s.memory);
    set_if(app, "--cpus", l.cpus, s.cpus);
    set_if(app, "--pids-limit", l.pids_limit, s.pids_limit);
    set_if(app, "--tmp-size", l.tmp_size, s.tmp_size);
    set_if(app, "--home-size", l.home_size, s.home_size);
    set_if(app, "--audit-log", l.audit_log, s.audit_log);
    if (app.count("--audit-sink") > 0) {
        std::vector<std::string> all;
        for (const auto &raw : s.audit_sinks)
            for (auto &w : split_words(raw))
                all.push_back(std::move(w));
        l.audit_sinks = normalize_audit_sinks(all, "--audit-sink");
    }
    set_if(app, "--audit-syslog-socket", l.audit_syslog_socket, s.audit_syslog_socket);
    set_if(app, "--audit-dir", l.audit_dir, s.audit_dir);
    if (app.count("--audit-max-bytes") > 0)
        l.audit_max_bytes = parse_audit_max_bytes(s.audit_max_bytes, "--audit-max-bytes");
    set_if(app, "--network", l.network, s.network);
    set_if(app, "--runtime", l.runtime, s.runtime);
    set_if(app, "--firewall", l.firewall, s.firewall);
    if (s.allow_lan)
        l.allow_lan = true;
}

}  // namespace rustyolo::cli
