// From the Plan's syscall section to the filter the agent runs under.
#pragma once

#include "plugins/seccomp/filter.hpp"

#include <boost/json.hpp>

#include <optional>

namespace rustyolo::seccomp {

// The loud warning logged when the Plan disables the filter.
inline constexpr const char *kDisabledWarning =
    "SECCOMP IS DISABLED (--seccomp-profile none): the agent may call ptrace, mount, bpf, io_uring, "
    "unshare and every other syscall the container engine's own profile allows";

// syscalls: the Plan's "syscalls" object: {"mode": "default"|"profile"|"none", "profile": ...}.
// Returns the filter to load, or nullopt for mode "none" (after logging kDisabledWarning).
// Throws std::invalid_argument for an unknown mode or a malformed profile.
std::optional<Filter> policy_filter(const boost::json::object &syscalls, const Log &log);

}  // namespace rustyolo::seccomp
