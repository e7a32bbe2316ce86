// The rustyolo commands. Each returns the process exit code.
#pragma once

#include "core/private_header.hpp"

#include "core/cli/arguments.hpp"
#include "core/cli/context.hpp"

#include <exception>

namespace rustyolo::cli {

// Runs an agent (or exec/shell), prints its Plan (`plan`), or its command (`--dry-run`).
int run_session(Context &context, const RunOptions &options, const SplitArgs &split);

int list_plugins(Context &context, const std::vector<std::string> &args);
int trust_command(Context &context, const std::vector<std::string> &args);
int image_command(Context &context, const std::vector<std::string> &args);
int update_command(Context &context, const std::vector<std::string> &args);
int audit_command(Context &context, const std::vector<std::string> &args);
// `rustyolo allow` / `deny` (verb) of a running session (live_command.cc).
int live_command(Context &context, const std::string &verb, const std::vector<std::string> &args);

// Prints `error` as the CLI reports every error ("rustyolo: error: ...") and returns its exit code:
// 2 for bad input (UsageError), 1 otherwise.
int report_error(const std::exception &error);

// An error that was already reported (report_error) before something that must follow it, such as
// the audit summary of a refused start. main() only exits with `code`.
struct ReportedError {
    int code;
};

// Checks that `image` exists and understands this CLI's Plan schema (its label), asking the runtime
// plugin that serves `runtime` (runtime.image_inspect).
// Checks that `image` exists, reads this rustyolo's Plan schema and, when `agent` is given and
// its plugin installs it from npm, that the image has it; throws Error saying which command
// builds what is missing.
void check_image(const PluginRegistry &registry, const std::string &runtime, const std::string &image,
                 const std::string &agent = "");

// The agents `rustyolo image build` installs and their npm packages, from every loaded agent
// plugin's recipe ("install": {"npm": [...]}): [{"name", "npm": [...]}], only those in `only` when
// it is not empty (each must be a loaded agent: UsageError). Warns about unpinned packages.
boost::json::array agent_recipes(const PluginRegistry &registry, const std::vector<std::string> &only);

}  // namespace rustyolo::cli
