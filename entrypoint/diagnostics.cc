#include "entrypoint/diagnostics.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace rustyolo::entrypoint {

namespace {

constexpr std::string_view kPrefix = "rustyolo-entrypoint: ";

spdlog::level::level_enum plan_level = spdlog::level::warn;

spdlog::level::level_enum level_named(std::string_view w);

spdlog::level::level_enum wanted_level() {
    spdlog::level::level_enum level = plan_level;
    if (const char *wanted = std::getenv("RUSTYOLO_ENTRYPOINT_LOG")) {
        // Anything but trace, debug or info keeps warn: warnings (such as "seccomp disabled") are
        // never silenced.
        level = std::min(level, level_named(wanted));
    }
    return level;
}

spdlog::level::level_enum level_named(std::string_view w) {
    if (w == "trace")
        return spdlog::level::trace;
    if (w == "debug")
        return spdlog::level::debug;
    if (w == "info")
        return spdlog::level::info;
    return spdlog::level::warn;
}

template <class Sink>
void install_logger() {
    auto logger = std::make_shared<spdlog::logger>("rustyolo-entrypoint", std::make_shared<Sink>());
    logger->set_pattern(std::string(kPrefix) + "%l: %v");
    logger->set_level(wanted_level());
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace

void setup_logging() { install_logger<spdlog::sinks::stderr_sink_mt>(); }

void apply_plan_log_level(const std::string &level) {
    plan_level = level_named(level);
    spdlog::set_level(wanted_level());
}

void use_own_logger_after_fork() { install_logger<spdlog::sinks::stderr_sink_st>(); }

void report(std::string_view level, std::string_view text) {
    std::string line;
    line.reserve(kPrefix.size() + level.size() + text.size() + 3);
    line.append(kPrefix).append(level).append(": ").append(text).append("\n");
    const char *p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace rustyolo::entrypoint
