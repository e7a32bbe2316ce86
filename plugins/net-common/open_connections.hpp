// Ending the open TCP connections of the sandbox's network namespace that a live deny takes away.
//
// Removing an address from the allow sets stops new connections only: a connection that is open
// stays "established" for conntrack and passes the firewall's first rule. So after the sets are
// narrowed, every TCP socket of the namespace whose destination the caller names is destroyed
// with sock_diag's SOCK_DESTROY (the mechanism of `ss -K`): the kernel aborts it as if a reset had
// arrived — the agent's next call on it fails with ECONNABORTED — and sends a reset to the peer,
// which ends the connection there too. A new connection to that destination meets the narrowed
// firewall. This needs CAP_NET_ADMIN (the supervisor has it) and a kernel built with
// CONFIG_INET_DIAG_DESTROY (common distribution kernels are); without it the call fails with
// EOPNOTSUPP and the error says so.
//
// Chosen over deleting conntrack entries (libnetfilter_conntrack or the conntrack tool): a deleted
// entry only makes the next packet of the connection meet the rules, the socket lives on until
// its own timeouts (minutes), and the peer is never told. UDP is not handled: the firewall opens
// TCP only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace rustyolo::net {

// (IPv6?, destination address in canonical inet_ntop text, destination port). An IPv4 peer of an
// IPv6 socket (::ffff:a.b.c.d) is passed as IPv4.
using ConnectionFilter = std::function<bool(bool v6, const std::string &address, std::uint16_t port)>;

// Destroys every TCP socket of this network namespace (IPv4 and IPv6, any state but LISTEN) whose
// destination `ends` accepts. Returns how many were destroyed. Throws std::runtime_error naming
// the step and errno.
std::size_t end_connections(const ConnectionFilter &ends);

}  // namespace rustyolo::net
