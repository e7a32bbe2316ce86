// Strict parsing of the resource limits a user gives (--memory, --cpus, --pids-limit, --tmp-size,
// --home-size and the [resources] keys of the config file).
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
// The smallest scratch tmpfs (/tmp, the home) a user may ask for.
inline constexpr std::int64_t min_scratch_bytes = 1024 * 1024;
// /dev/shm: the engine's default size, unless a quarter of the memory limit is less.
inline constexpr std::int64_t default_shm_bytes = 64 * 1024 * 1024;
// Without a memory limit, /tmp and the home default to this size each.
inline constexpr std::int64_t unlimited_memory_scratch_bytes = 1024ll * 1024 * 1024;
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

// A scratch tmpfs size: what parse_memory accepts, except "unlimited" (a tmpfs without a size may
// take half of the host's memory) and sizes below min_scratch_bytes.
std::int64_t parse_scratch_size(std::string_view value, std::string_view flag);

// The sizes of the session's tmpfs mounts. tmpfs pages are charged to the container's memory
// cgroup, so together they must stay below the memory limit.
struct Scratch {
    std::int64_t tmp_bytes = 0;   // /tmp (and /var/tmp, a link to it in the image)
    std::int64_t home_bytes = 0;  // the agent's home
    std::int64_t shm_bytes = 0;   // /dev/shm
};

// Defaults: a quarter of the memory limit each for /tmp and the home (1 GiB each without a memory
// limit), /dev/shm default_shm_bytes or a sixteenth of the limit if less. A size the user gave
// (nullopt: not given) replaces its default. Throws sdk::InvalidInput, naming every value, when
// the three do not sum below the memory limit.
Scratch resolve_scratch(std::optional<std::int64_t> memory_bytes, const std::optional<std::string> &tmp_size,
                        const std::optional<std::string> &home_size);

}  // namespace rustyolo::resources
