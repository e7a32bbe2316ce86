// The entrypoint's own messages: on stderr, every line prefixed "rustyolo-entrypoint: <level>: ".
// Plugins log through spdlog with the same prefix. The level is warn unless the Plan asks for more
// (`rustyolo --debug`) or the container's environment sets RUSTYOLO_ENTRYPOINT_LOG to trace, debug
// or info (for running the image by hand; the CLI does not pass RUSTYOLO_* variables in).
#pragma once

#include "core/private_header.hpp"

#include <string>
#include <string_view>

namespace rustyolo::entrypoint {

void setup_logging();

// Raises the log level to the Plan's (`rustyolo --debug`: "debug"), never below what
// RUSTYOLO_ENTRYPOINT_LOG asked for and never above warn.
void apply_plan_log_level(const std::string &level);

// In a forked child: replaces the default logger by a new, lock-free one on stderr, so that a lock
// another thread of the parent held at fork time is never waited for.
void use_own_logger_after_fork();

// Writes "rustyolo-entrypoint: <level>: <text>\n" with a single write(2), taking no lock: safe in
// the forked child, whatever other threads of the parent held at fork time.
void report(std::string_view level, std::string_view text);

}  // namespace rustyolo::entrypoint
