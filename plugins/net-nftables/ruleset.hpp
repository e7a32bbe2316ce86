// The firewall as data: what net-nftables means to install (table inet rustyolo, its sets, chains
// and rules, each rule named by a comment), rendered to one nft transaction, and compared again by
// the self-test with what the kernel reports.
//
// Output, in order (first match wins; everything not accepted ends in a drop):
//   flow-class-set-*   a packet that creates a conntrack entry (`ct state new ct status ! confirmed`)
//                      marks the flow (ct mark) with the class of its socket: agent, probe, DNS filter,
//                      root, other uid; no socket: no mark (FlowClass::kernel)
//   flow-class-*       a packet from a local socket whose class is not the flow's -> blocked_flow_class:
//                      in the original direction the class must be the mark; in the reply direction
//                      the agent answers only flows the agent (or the outside) opened. Packets without
//                      a socket (kernel RSTs, TIME_WAIT ACKs, ICMP errors) are not checked
//   established,related                     accept
//   any uid -> 127.0.0.1:53 udp/tcp          accept   the stub resolver (DNS filter)
//   uid 65533 -> each upstream:port udp/tcp  accept   matched on the conntrack original tuple, so
//                                                    Docker's DNAT of 127.0.0.11:53 does not matter
//   anyone else -> upstream:port             reject   observable: a send fails with EPERM
//   uid 0 -> :53 udp/tcp                     accept   only when 127.0.0.11 is an upstream: dockerd's
//                                                    embedded resolver forwards from this namespace
//   uid 65533 -> anything else               drop     the filter reaches its upstreams only
//   IPv6 neighbour discovery (hop limit 255) accept   so that allowed IPv6 hosts are reachable
//   agent uid -> 127.0.0.1 on lo             accept   the agent's own local services (dev servers)
//   guard: loopback, link-local, multicast,  drop     whatever a set says; private ranges too
//          reserved (+ private)                       unless allow_lan
//   @allow4/@allow6 (address . tcp port)     accept   fed from DNS answers, with timeouts
//   daddr & mask @cidr4_N_L, tcp dport {..}  accept   CIDR entries: per port list (the max_cidr_sets
//   @cidr4_N/@cidr6_N, tcp dport {ports}     accept   largest groups), a plain set of network addresses
//                                                    per prefix length with 16 or more prefixes, and
//                                                    one interval set for the rest
//   @static4/@static6 (prefix . tcp port)    accept   CIDR entries of the other port lists
//   @live4/@live6 (prefix . tcp port)        accept   CIDR entries added while the session runs
//                                                    (`rustyolo allow`; live_cidr_script)
//   everything else                          refuse   (blocked_output: counted, logged, rejected)
// Input: a packet that creates a conntrack entry marks it inbound; established,related accept; from
// lo accept (it was filtered on output already); IPv6 neighbour discovery accept; everything else
// drop. Forward: drop. Every chain has policy drop.
#pragma once

#include "plugins/net-common/firewall_spec.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::nft {

inline constexpr const char *table_family = "inet";
inline constexpr const char *table_name = "rustyolo";
// The bound on the dynamic sets allow4/allow6.
inline constexpr std::uint32_t dynamic_set_size = 65536;

// The firewall's inputs and classes (net-common), as this file writes them.
using net::dns_filter_uid;
using net::FirewallSpec;
using net::FlowClass;
using net::Resolver;
using net::StaticRange;

// CIDR entries with the same port list share a plain interval set of prefixes and one rule
// (`ip daddr @cidr4_N tcp dport { 80, 443 } accept`): one element per prefix instead of one per
// prefix and port, and a plain interval set costs libnftables and the kernel far less per element
// than a concatenated one. At most this many such sets per family; the entries of other port lists
// go to the concatenated sets static4/static6. Within a group, the prefixes of a length that has 16
// or more of them go to a plain hash set of network addresses instead (`cidr4_N_<length>`, matched
// as `ip daddr & <mask> @set`): libnftables computes no intervals for it, so it loads faster
// (`tests/bench/bench.py firewall` shows the install time).
inline constexpr std::size_t max_cidr_sets = 16;

// The mark as nft writes it ("0x00000001").
std::string flow_mark(FlowClass flow_class);

struct Rule {
    std::string comment;  // the rule's identity, unique in its chain ("stub-udp", "upstream-udp 1.1.1.1:53")
    std::string text;     // nft syntax without the comment
};

struct Chain {
    std::string name;
    std::string hook;      // "output", "input", "forward"; empty for a regular chain
    std::string comment;   // for regular chains: what they are for
    std::vector<Rule> rules;
};

struct Set {
    std::string name;
    std::string type;                   // "ipv4_addr . inet_service", "ipv4_addr"
    std::vector<std::string> flags;     // "timeout", "interval"
    std::uint32_t size = 0;             // 0: unbounded
    std::vector<std::string> elements;  // nft syntax
};

struct Ruleset {
    std::vector<Set> sets;
    std::vector<Chain> chains;
};

// The chains every blocked packet of the firewall goes to (blocked_output: the output chain's
// drops; blocked_guard: never-allowed destinations; blocked_input; blocked_flow_class: a packet
// from a socket of another class than its flow's). Each holds one rule: count the packet, log it
// to NFLOG group net::nflog_group with the chain's name as the prefix (headers only,
// net::nflog_copy_bytes), then refuse it (see refuse_chain below) or drop it. The supervisor's reader (net-common/packet_audit.hpp)
// turns the logs into audit records; the counters make the totals exact when logs are lost.
inline constexpr const char *blocked_output_chain = "blocked_output";
inline constexpr const char *blocked_guard_chain = "blocked_guard";
inline constexpr const char *blocked_input_chain = "blocked_input";
// A packet from a socket whose class is not the flow's (the flow-class-* rules).
inline constexpr const char *blocked_flow_class_chain = "blocked_flow_class";
// Original-direction UDP packets of the output chain jump here: those without an owning socket
// (no uid) go to blocked_flow_class.
inline constexpr const char *no_socket_chain = "flow_class_no_socket";
inline constexpr std::array<const char *, 4> blocked_chains{blocked_output_chain, blocked_guard_chain,
                                                            blocked_input_chain, blocked_flow_class_chain};

// blocked_output and blocked_guard hold the agent's own attempts (and the DNS filter's): their
// packets are refused in the chain `refuse`, so that the sender learns at once (a TCP reset:
// ECONNREFUSED; ICMP/ICMPv6 administratively prohibited for everything else: the send fails with
// EPERM and a connected socket then reports EHOSTUNREACH/EACCES) instead of waiting for a timeout.
// blocked_input (packets from the network) and blocked_flow_class (a socket continuing another
// class's flow) only drop: an answer to the former would go out to the network.
inline constexpr const char *refuse_chain = "refuse";
// At most this many refusals per second (burst the same), shared by both chains; above it a
// blocked packet is dropped as before. The refusal goes back to the sending socket on this host
// only, so a flood cannot be reflected elsewhere; the bound keeps it from costing more than that.
inline constexpr unsigned refuse_per_second = 1000;
bool refuses(const std::string &blocked_chain);

// The blocked chains' rule: `counter log prefix "<chain>" group N snaplen M` and then `goto refuse`
// (blocked_output, blocked_guard) or `drop` (the others). Comment: "log-refuse" or "log-drop".
std::string blocked_rule_text(const std::string &chain);
std::string blocked_rule_comment(const std::string &chain);

Ruleset build_ruleset(const FirewallSpec &spec);

// The sets of CIDR entries added while the session runs.
inline constexpr const char *live_set4 = "live4";
inline constexpr const char *live_set6 = "live6";

// One nft transaction that replaces the elements of live4/live6 with `ranges` (prefixes inside
// others of the same port merged away, as an interval set needs): flush and refill in one batch,
// so no packet sees a state between the old and the new sets.
std::string live_cidr_script(const std::vector<StaticRange> &ranges);

// One nft transaction that removes (family, address, port) elements from allow4/allow6. Each is
// added first (with a short timeout), then deleted: a delete of an element that has timed out
// meanwhile would fail the whole transaction.
struct Element {
    bool v6 = false;
    std::string address;
    std::uint16_t port = 0;
    auto operator<=>(const Element &) const = default;
};
std::string removal_script(const std::vector<Element> &elements);

// One nft transaction that atomically replaces any table inet rustyolo with `ruleset`.
std::string render_transaction(const Ruleset &ruleset);

}  // namespace rustyolo::nft
