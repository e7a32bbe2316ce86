#include "diagnostics.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace rustyolo::entrypoint {

namespace {

constexpr std::string_view kPrefix = "rustyolo-entrypoint: ";

spdlog::level::level_enum wanted_level() {
    spdlog::level::level_enum level = spdlog::level::warn;
    if (const char *wanted = std::getenv("RUSTYOLO_ENTRYPOINT_LOG")) {
        const std::string_view w(wanted);
        if (w == "trace")
            level = spdlog::level::trace;
        else if (w == "debug")
            level = spdlog::level::debug;
        else if (w == "info")
            level = spdlog::level::info;
        // Anything else keeps warn: warnings (such as "seccomp disabled") are never silenced.
    }
    return level;
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
