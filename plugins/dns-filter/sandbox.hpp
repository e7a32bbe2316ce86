// The DNS filter's own confinement. It is started by the supervisor already without privileges
// (uid/gid 65533, no capabilities, no_new_privs); it checks that, then restricts itself further
// with a seccomp allowlist before it reads its first packet.
#pragma once

namespace rustyolo::dns {

// Throws std::runtime_error if this process runs as root or holds any capability (effective,
// permitted, inheritable or ambient): the filter refuses to parse packets with privileges.
void require_unprivileged();

// Sets no_new_privs and loads the seccomp allowlist: the filter can poll, read and write its
// descriptors, make IPv4/IPv6 UDP and TCP sockets to reach its upstreams, accept clients, get
// random numbers and the time, and manage memory (never executable). Anything else kills the
// process. Throws std::runtime_error naming the step that failed.
void enter_seccomp();

}  // namespace rustyolo::dns
