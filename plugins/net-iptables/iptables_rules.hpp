// The seed's mechanism for kernels without nftables: addresses resolved once at start, one
// iptables-restore batch and one ip6tables-restore batch (filter table only; Docker's nat rules for
// 127.0.0.11 stay), default DROP for both families. Same policy shape as net-nftables, with static
// addresses instead of DNS-fed sets:
//
//   OUTPUT: flow classes (as net-nftables: CONNMARK --set-mark by the packet that creates the
//           conntrack entry, from the socket's owner; a packet whose socket's class is not its
//           flow's mark -> blocked_flow_class); established,related ACCEPT; any uid -> 127.0.0.1:53 ACCEPT (the DNS filter);
//           uid 65533 -> each upstream (conntrack original destination) ACCEPT, anyone else REJECT;
//           uid 0 -> :53 ACCEPT when 127.0.0.11 is an upstream (dockerd forwards from here);
//           uid 65533 -> anything else DROP; IPv6 neighbour discovery ACCEPT; agent uid -> 127.0.0.1
//           on lo ACCEPT; never-allowed ranges DROP (guard); each resolved address and CIDR entry
//           on its TCP ports ACCEPT; everything else refused (a reset or ICMP error).
//   INPUT: a new entry is marked inbound; established,related ACCEPT; from lo ACCEPT; IPv6 neighbour discovery ACCEPT; DROP.
//   Every DROP: a jump to one of the blocked chains (NFLOG, then a refusal or DROP; see below).
//   FORWARD: DROP.
// Every rule carries "-m comment --comment rustyolo:<id>" so the self-test can compare what
// iptables-save reports with what was meant.
#pragma once

#include "plugins/net-common/firewall_spec.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rustyolo::ipt {

// The chains every drop goes through, as in net-nftables: each one logs the packet to NFLOG group
// net::nflog_group with the audit rule name as the prefix (blocked_output, blocked_guard,
// blocked_input, blocked_flow_class; headers only), then drops it. The NFLOG rule's packet
// counter is the exact total the packet audit compares its log messages with (drop_counters()).
inline constexpr const char *blocked_output_chain = "RUSTYOLO_BLOCKED_OUTPUT";
inline constexpr const char *blocked_guard_chain = "RUSTYOLO_BLOCKED_GUARD";
inline constexpr const char *blocked_input_chain = "RUSTYOLO_BLOCKED_INPUT";
inline constexpr const char *blocked_flow_class_chain = "RUSTYOLO_BLOCKED_FLOW_CLASS";
// As in net-nftables, the agent's own attempts (RUSTYOLO_BLOCKED_OUTPUT, _GUARD) are refused after
// the log, not dropped: `-m limit` (at most refuse_per_second per chain, burst the same) jumps to
// RUSTYOLO_REFUSE, a TCP reset or ICMP(v6) administratively prohibited; above the limit, DROP.
// Packets from the network and flow-class violations are dropped.
inline constexpr const char *refuse_chain = "RUSTYOLO_REFUSE";
inline constexpr unsigned refuse_per_second = 1000;
bool refuses(const std::string &blocked_chain);

struct StaticAddress {
    bool v6 = false;
    std::string address;               // canonical
    std::vector<std::uint16_t> ports;  // TCP
    std::string name;                  // the allow entry it came from (for the comment)
};

struct IptablesSpec {
    net::FirewallSpec base;                // agent uid, upstreams, allow_lan, CIDR entries
    std::vector<StaticAddress> addresses;  // names resolved at start
};

struct Batch {
    std::string text;                                          // for iptables-restore
    std::map<std::string, std::vector<std::string>> comments;  // chain -> rule ids, in order
};

Batch ipv4_batch(const IptablesSpec &spec);
Batch ipv6_batch(const IptablesSpec &spec);

// The rule ids per chain found in `iptables-save -t filter` output, and the chains' policies.
struct Saved {
    std::map<std::string, std::string> policies;               // built-in chain -> ACCEPT/DROP
    std::map<std::string, std::vector<std::string>> comments;  // chain -> rule ids, in order
};
Saved parse_save(const std::string &text);

// The packets counted by the NFLOG rules of the blocked chains in `iptables-save -c -t filter`
// output ("[packets:bytes] -A RUSTYOLO_BLOCKED_... -j NFLOG ...").
std::uint64_t drop_counters(const std::string &save_text);

}  // namespace rustyolo::ipt
