// Strict parsing of the resource limits a user gives (--memory, --cpus, --pids-limit and the
// [resources] keys of the config file).
//
// Every value is either a limit or the word "unlimited" (which yields no value and a warning).
// Anything else — signs, spaces, exponents, hex, trailing garbage, zero, values Docker would refuse —
// throws sdk::InvalidInput naming the flag, the value, why, and an example of a valid value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rustyolo::resources {

// Docker refuses memory limits below 6 MiB.
inline constexpr std::int64_t min_memory_bytes = 6 * 1024 * 1024;
// Docker refuses --cpus below 0.01.
inline constexpr double min_cpus = 0.01;
inline constexpr double max_cpus = 1024;
// Below this not even the supervisor, the DNS filter and the agent's first processes can start.
inline constexpr std::int64_t min_pids = 16;
// The kernel's largest pid_max (PID_MAX_LIMIT on 64-bit).
inline constexpr std::int64_t max_pids = 4194304;
// Longer values are refused before they are looked at.
inline constexpr std::size_t max_value_length = 32;

// A parsed limit: `value` is empty for "unlimited", in which case `warning` says what that means.
template <class T>
struct Limit {
    std::optional<T> value;
    std::string warning;
};

// "4g", "512m", "1024k", "2t", "268435456", "4gb", "1.5g" (case-insensitive; k/m/g/t are powers
// of 1024; one fraction of up to 3 digits with a unit, truncated to whole bytes), or "unlimited".
Limit<std::int64_t> parse_memory(std::string_view value, std::string_view flag = "--memory");

// "4", "0.5", "1.25" (at most 3 decimals, 0.01 to 1024), or "unlimited".
Limit<double> parse_cpus(std::string_view value, std::string_view flag = "--cpus");

// "256" (16 to 4194304), or "unlimited".
Limit<std::int64_t> parse_pids(std::string_view value, std::string_view flag = "--pids-limit");

}  // namespace rustyolo::resources
