#include "plugins/net-common/live_policy.hpp"

#include "plugins/net-common/allow_entry.hpp"
#include "plugins/net-common/network_setup.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace rustyolo::net {
namespace {

std::vector<std::uint16_t> without(const std::vector<std::uint16_t> &ports, const std::vector<std::uint16_t> &removed) {
    std::vector<std::uint16_t> out;
    for (std::uint16_t port : ports)
        if (std::find(removed.begin(), removed.end(), port) == removed.end())
            out.push_back(port);
    return out;
}

std::string described(const PlanEgress &entry) {
    std::string ports;
    for (std::uint16_t port : entry.ports)
        ports += (ports.empty() ? "" : ", ") + std::to_string(port);
    return entry.value + " (" + entry.protocol + " " + ports + ")";
}

// Checks an entry as the firewall takes it; the host normalised it already, so a failure here
// names a value the normalize hook let through.
void check(const PlanEgress &entry, bool allow_lan) {
    try {
        check_entry(entry);
        if (entry.kind == "cidr")
            static_range(entry, allow_lan);
    } catch (const std::exception &e) {
        throw sdk::InvalidInput(e.what());
    }
}

std::vector<std::uint16_t> known_ports(const std::map<LivePolicy::Key, std::vector<std::uint16_t>> &live,
                                       const LivePolicy::Key &key) {
    auto it = live.find(key);
    return it == live.end() ? std::vector<std::uint16_t>{} : it->second;
}

}  // namespace

LivePolicy::LivePolicy(std::vector<PlanEgress> start, bool allow_lan) : start_(std::move(start)), allow_lan_(allow_lan) {}

LivePolicy::Change LivePolicy::allow(const std::vector<PlanEgress> &entries) const { return changed(entries, false); }

LivePolicy::Change LivePolicy::deny(const std::vector<PlanEgress> &entries) const { return changed(entries, true); }

LivePolicy::Change LivePolicy::changed(const std::vector<PlanEgress> &entries, bool deny) const {
    Change change;
    change.next = live_;
    if (entries.size() > kMaxEntriesPerChange)
        throw sdk::InvalidInput("a live change names " + std::to_string(entries.size()) + " entries; at most " +
                                std::to_string(kMaxEntriesPerChange) +
                                " are taken at once: split it, or put the entries in the config and start again");
    for (const PlanEgress &entry : entries)
        check(entry, allow_lan_);
    for (const PlanEgress &entry : entries) {
        Key key{entry.kind, entry.value, entry.protocol};
        PlanEgress applied = entry;
        applied.reason.clear();
        if (!deny) {
            std::vector<std::uint16_t> &ports = change.next[key];
            ports = merge_ports(ports, entry.ports);
        } else {
            auto it = change.next.find(key);
            std::vector<std::uint16_t> taken;
            if (it != change.next.end())
                for (std::uint16_t port : entry.ports)
                    if (std::find(it->second.begin(), it->second.end(), port) != it->second.end())
                        taken.push_back(port);
            if (taken.empty())
                throw sdk::InvalidInput(
                    "deny " + described(entry) +
                    ": no such entry was added to this session with `rustyolo allow`; entries the session started "
                    "with (command line, config files, the agent's requirements) stay until it ends");
            it->second = without(it->second, taken);
            if (it->second.empty())
                change.next.erase(it);
            applied.ports = taken;
        }
        change.applied.push_back(std::move(applied));
        if (entry.kind == "cidr")
            change.cidrs_changed = true;
    }
    if (!deny && change.next.size() > kMaxLiveEntries)
        throw sdk::InvalidInput("the session would hold " + std::to_string(change.next.size()) +
                                " live entries; at most " + std::to_string(kMaxLiveEntries) +
                                " are kept: deny some with `rustyolo deny`, or put the entries in the config "
                                "(or a wildcard) and start again");
    // Every name or wildcard whose live ports differ now: the DNS filter's part of the change.
    std::set<Key> keys;
    for (const auto &[key, ports] : live_)
        keys.insert(key);
    for (const auto &[key, ports] : change.next)
        keys.insert(key);
    for (const Key &key : keys)
        if (std::get<0>(key) != "cidr" && known_ports(change.next, key) != known_ports(live_, key))
            change.names.emplace_back(std::get<1>(key), known_ports(change.next, key));
    return change;
}

std::vector<std::uint16_t> LivePolicy::name_ports() const {
    std::vector<std::uint16_t> ports;
    for (const PlanEgress &entry : start_)
        if (entry.kind != "cidr")
            ports = merge_ports(ports, entry.ports);
    for (const auto &[key, live] : live_)
        if (std::get<0>(key) != "cidr")
            ports = merge_ports(ports, live);
    return ports;
}

AllowList LivePolicy::names() const {
    AllowList list;
    for (const PlanEgress &entry : start_)
        if (entry.kind != "cidr")
            list.add(entry.value, entry.ports);
    for (const auto &[key, ports] : live_)
        if (std::get<0>(key) != "cidr")
            list.add(std::get<1>(key), ports);
    return list;
}

bool LivePolicy::name_allows(const std::string &name, std::uint16_t port) const {
    return allows(names(), name, port);
}

bool LivePolicy::allows(const AllowList &names, const std::string &name, std::uint16_t port) {
    auto ports = names.match(name);
    return ports && std::find(ports->begin(), ports->end(), port) != ports->end();
}

bool LivePolicy::cidr_allows(bool v6, const std::string &address, std::uint16_t port) const {
    auto target = parse_address(address);
    if (!target || target->v6 != v6)
        return false;
    auto inside = [&](const std::string &cidr) {
        const std::size_t slash = cidr.find('/');
        auto prefix = parse_address(cidr.substr(0, slash));
        if (!prefix || prefix->v6 != v6)
            return false;
        const unsigned length = slash == std::string::npos ? (v6 ? 128u : 32u)
                                                           : static_cast<unsigned>(std::stoul(cidr.substr(slash + 1)));
        for (unsigned bit = 0; bit < length; ++bit) {
            const unsigned mask = 0x80u >> (bit % 8);
            if ((prefix->bytes[bit / 8] & mask) != (target->bytes[bit / 8] & mask))
                return false;
        }
        return true;
    };
    auto opens = [port](const std::vector<std::uint16_t> &ports) {
        return std::find(ports.begin(), ports.end(), port) != ports.end();
    };
    for (const PlanEgress &entry : start_)
        if (entry.kind == "cidr" && opens(entry.ports) && inside(entry.value))
            return true;
    for (const auto &[key, ports] : live_)
        if (std::get<0>(key) == "cidr" && opens(ports) && inside(std::get<1>(key)))
            return true;
    return false;
}

std::vector<StaticRange> LivePolicy::live_ranges() const {
    std::vector<StaticRange> ranges;
    for (const auto &[key, ports] : live_)
        if (std::get<0>(key) == "cidr") {
            PlanEgress entry;
            entry.kind = "cidr";
            entry.value = std::get<1>(key);
            entry.ports = ports;
            ranges.push_back(static_range(entry, allow_lan_));
        }
    return ranges;
}

std::vector<PlanEgress> LivePolicy::live_entries() const {
    std::vector<PlanEgress> out;
    for (const auto &[key, ports] : live_) {
        PlanEgress entry;
        std::tie(entry.kind, entry.value, entry.protocol) = key;
        entry.ports = ports;
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace rustyolo::net
