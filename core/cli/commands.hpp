// The rustyolo commands. Each returns the process exit code.
#pragma once

#include "arguments.hpp"
#include "context.hpp"

namespace rustyolo::cli {

// Runs an agent (or exec/shell), prints its Plan (`plan`), or its command (`--dry-run`).
int run_session(Context &context, const RunOptions &options, const SplitArgs &split);

int list_plugins(Context &context);
int trust_command(Context &context, const std::vector<std::string> &args);
int image_command(Context &context, const std::vector<std::string> &args);
int update_command(Context &context, const std::vector<std::string> &args);
int audit_command(Context &context, const std::vector<std::string> &args);

// Checks that `image` exists and understands this CLI's Plan schema (its label).
void check_image(const std::string &runtime, const std::string &image);

}  // namespace rustyolo::cli
