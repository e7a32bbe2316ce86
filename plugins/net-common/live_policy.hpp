// The allow entries of a running session: those it started with (the Plan's) and those added
// since (`rustyolo allow`), and what a live change means for each part of the firewall. Pure: the
// plugin applies what it computes (the DNS filter's policy lines, the live CIDR sets, the ports the
// admission accepts) and asks it which addresses stay allowed after a deny.
//
// Rules:
//   allow  adds entries; an entry that is already live gets the union of its ports. An entry the
//          session started with may be allowed again (for other ports): the ports it adds are live.
//   deny   takes back live ports of live entries. A deny that names an entry (kind, value,
//          protocol) with no live port among those it names is refused, naming it: entries the
//          session started with (command line, config, agent requirements) stay for the session.
// At most kMaxEntriesPerChange entries per change and kMaxLiveEntries live entries: beyond, the
// change is refused (nothing changes).
// Every entry is checked first (network_setup.hpp check_entry, static_range); an invalid one
// refuses the whole change, and nothing is changed.
#pragma once

#include "plugins/net-common/allow_list.hpp"
#include "plugins/net-common/firewall_spec.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace rustyolo::net {

class LivePolicy {
public:
    // Bounds that keep a change's response and audit record within their line limits (control
    // frames, audit records): entries named by one change, and live entries a session holds.
    static constexpr std::size_t kMaxEntriesPerChange = 32;
    static constexpr std::size_t kMaxLiveEntries = 128;

    using Key = std::tuple<std::string, std::string, std::string>;  // kind, value, protocol

    LivePolicy() = default;
    LivePolicy(std::vector<PlanEgress> start, bool allow_lan);

    struct Change {
        // The DNS filter's new live ports per name or wildcard touched (empty: taken back).
        std::vector<std::pair<std::string, std::vector<std::uint16_t>>> names;
        bool cidrs_changed = false;
        // The entries as changed: for allow the entries with the ports added, for deny the ports
        // taken back.
        std::vector<PlanEgress> applied;
        std::map<Key, std::vector<std::uint16_t>> next;  // the live entries after the change
    };

    // The change `entries` would make. Throws sdk::InvalidInput naming the first entry it cannot
    // take; nothing is changed then.
    Change allow(const std::vector<PlanEgress> &entries) const;
    Change deny(const std::vector<PlanEgress> &entries) const;
    // Makes a change computed by allow() or deny() on this state the state.
    void commit(const Change &change) { live_ = change.next; }

    // Every port a name or wildcard entry opens (the admission policy's ports), start and live.
    std::vector<std::uint16_t> name_ports() const;
    // Whether some entry still lets `name` reach `port` (start or live names and wildcards).
    bool name_allows(const std::string &name, std::uint16_t port) const;
    // The name and wildcard entries (start and live), as the DNS filter matches them, and
    // whether such a list lets `name` reach `port`.
    AllowList names() const;
    static bool allows(const AllowList &names, const std::string &name, std::uint16_t port);
    // Whether some CIDR entry (start or live) contains `address` for `port`.
    bool cidr_allows(bool v6, const std::string &address, std::uint16_t port) const;
    // The live CIDR entries as the firewall's ranges.
    std::vector<StaticRange> live_ranges() const;
    // The live entries, for reports.
    std::vector<PlanEgress> live_entries() const;

private:
    Change changed(const std::vector<PlanEgress> &entries, bool deny) const;

    std::vector<PlanEgress> start_;
    bool allow_lan_ = false;
    std::map<Key, std::vector<std::uint16_t>> live_;
};

}  // namespace rustyolo::net
