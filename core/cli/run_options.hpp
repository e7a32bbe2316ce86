// The run options (every seed flag plus rustyolo's), defined once with CLI11. They fill the
// command-line ConfigLayer; a few only steer the CLI itself (dry run, logging).
#pragma once

#include "core/private_header.hpp"

#include "core/cli/arguments.hpp"
#include "core/config/config.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace rustyolo::cli {

struct RunOptions {
    ConfigLayer layer;             // Source::cli
    bool dry_run = false;
    bool skip_version_check = false;
    bool debug = false;
    // Raw values CLI11 binds to; finish() copies the ones given into `layer`.
    struct Raw {
        std::vector<std::string> allow_domains;
        std::vector<std::string> audit_sinks;
        std::string audit_syslog_socket, audit_dir, audit_max_bytes;
        std::string dns_servers, auth_home, image, inject_message, seccomp_profile, memory, cpus,
            pids_limit, tmp_size, home_size, audit_log, network, runtime, firewall;
        bool allow_lan = false;
    } raw;
};

// Builds the CLI11 app for the run options, bound to `options`.
std::unique_ptr<CLI::App> make_run_app(RunOptions &options);

// The option names of `app`, for split_arguments (help and version excluded: after the agent name
// those belong to the agent).
OptionTable option_table(const CLI::App &app);

// Moves what CLI11 parsed into options.layer.
void finish(RunOptions &options, const CLI::App &app);

}  // namespace rustyolo::cli
