// The default syscall policy ("--seccomp-profile default"): allow by default, deny what lets a
// process escape or attack the sandbox, on every ABI of the machine.
#pragma once

#include "plugins/seccomp/filter.hpp"

#include <string_view>
#include <vector>

namespace rustyolo::seccomp {

// Syscalls the default policy denies with EPERM whatever their arguments.
const std::vector<std::string_view> &always_denied_syscalls();

// The address families the agent may create sockets of (socket, socketpair): AF_UNIX, AF_INET,
// AF_INET6, AF_NETLINK. Every other family goes past the firewall (AF_VSOCK to the VM host of a
// VM-hosted engine) or sends from kernel-internal sockets that carry no owner (AF_RXRPC, AF_SMC,
// AF_RDS), which the firewall's per-uid rules cannot class.
const std::vector<int> &allowed_socket_families();

// Builds (does not load) the default filter for `arches`:
//   - EPERM for always_denied_syscalls();
//   - EPERM for clone with any CLONE_NEW* flag, for personality other than PER_LINUX (0) and the
//     0xffffffff query, for ioctl TIOCSTI and TIOCLINUX (command compared on its low 32 bits,
//     as the kernel does, so a command with garbage in the high bits is caught too);
//   - EAFNOSUPPORT for socket and socketpair with a family not in allowed_socket_families()
//     (low 32 bits compared, as the kernel reads the int; a 64-bit value above AF_NETLINK is
//     denied whatever its low half). On x86 (i386) libseccomp applies these rules to the
//     socketcall multiplexer as socketcall(SYS_SOCKET / SYS_SOCKETPAIR) whatever its arguments
//     (they are in memory): a 32-bit program creates sockets only through the direct syscalls;
//   - ENOSYS for clone3 (its flags live in memory a filter cannot read; libc then uses clone).
Filter default_filter(const std::vector<std::uint32_t> &arches = machine_arches());

}  // namespace rustyolo::seccomp
