// The default syscall policy ("--seccomp-profile default"): allow by default, deny what lets a
// process escape or attack the sandbox, on every ABI of the machine.
#pragma once

#include "filter.hpp"

#include <string_view>
#include <vector>

namespace rustyolo::seccomp {

// Syscalls the default policy denies with EPERM whatever their arguments.
const std::vector<std::string_view> &always_denied_syscalls();

// Builds (does not load) the default filter for `arches`:
//   - EPERM for always_denied_syscalls();
//   - EPERM for clone with any CLONE_NEW* flag, for personality other than PER_LINUX (0) and the
//     0xffffffff query, for ioctl TIOCSTI and TIOCLINUX (command compared on its low 32 bits,
//     as the kernel does, so a command with garbage in the high bits is caught too);
//   - ENOSYS for clone3 (its flags live in memory a filter cannot read; libc then uses clone).
Filter default_filter(const std::vector<std::uint32_t> &arches = machine_arches());

}  // namespace rustyolo::seccomp
