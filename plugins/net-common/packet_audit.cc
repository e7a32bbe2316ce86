#include "plugins/net-common/packet_audit.hpp"

namespace rustyolo::net {

namespace json = boost::json;

std::string_view packet_direction(std::string_view rule) { return rule == "blocked_input" ? "in" : "out"; }

json::object packet_record(const BlockedPacket &packet, const std::optional<std::string> &name) {
    const PacketHeaders &h = packet.headers;
    json::object details;
    if (h.family) {
        char number[4];
        details["protocol"] = protocol_name(h.protocol, number);
        details["family"] = h.family;
    } else {
        details["protocol"] = nullptr;  // not an IP packet, or its header was cut off
        details["family"] = nullptr;
    }
    details["direction"] = packet_direction(packet.prefix);
    details["destination"] = h.family ? json::value(h.destination) : json::value(nullptr);
    details["port"] = h.has_ports ? json::value(h.destination_port) : json::value(nullptr);
    details["source"] = h.family ? json::value(h.source) : json::value(nullptr);
    details["source_port"] = h.has_ports ? json::value(h.source_port) : json::value(nullptr);
    details["name"] = name ? json::value(*name) : json::value(nullptr);
    details["uid"] = packet.has_uid ? json::value(packet.uid) : json::value(nullptr);
    details["rule"] = packet.prefix;
    return json::object{{"layer", "network"}, {"verdict", "block"}, {"event", "packet"}, {"details", std::move(details)}};
}

json::object lost_record(std::uint64_t count) {
    return json::object{
        {"layer", "network"}, {"verdict", "block"}, {"event", "lost"}, {"details", json::object{{"count", count}}}};
}

std::uint64_t lost_count(std::uint64_t counted, std::uint64_t received) {
    return counted > received ? counted - received : 0;
}

std::uint32_t self_test_probe_gid(std::uint32_t agent_gid) { return agent_gid == 65532 ? 65531 : 65532; }

PacketAudit::PacketAudit(std::uint32_t agent_uid, std::uint32_t agent_gid, Emit emit, std::uint16_t group)
    : agent_uid_(agent_uid), probe_gid_(self_test_probe_gid(agent_gid)), emit_(std::move(emit)) {
    reader_ = std::make_unique<NflogReader>(group, [this](const BlockedPacket &packet) { handle(packet); });
    reader_->start();
}

PacketAudit::~PacketAudit() { reader_->stop(); }

void PacketAudit::set_name_lookup(NameLookup lookup) {
    std::lock_guard lock(lookup_mutex_);
    lookup_ = std::move(lookup);
}

std::pair<bool, std::string> PacketAudit::self_test_check() const {
    if (!reader_->running())
        return {false, "the NFLOG reader of group " + std::to_string(nflog_group) + " has stopped"};
    return {true, "NFLOG group " + std::to_string(nflog_group) + " bound and read; the probes (uid " +
                      std::to_string(agent_uid_) + ", gid " + std::to_string(probe_gid_) + ") are not reported"};
}

std::uint64_t PacketAudit::finish(std::uint64_t counted, std::chrono::milliseconds timeout) {
    if (finished_)
        return 0;
    finished_ = true;
    // Nothing to wait for unless drops were counted whose messages the kernel still holds back
    // (until its flush timer, 10 ms).
    reader_->wait_received(counted, timeout);
    reader_->stop();
    std::uint64_t lost = lost_count(counted, reader_->received());
    if (lost)
        emit_(lost_record(lost));
    return lost;
}

std::pair<bool, std::string> PacketAudit::finish_session(const std::function<std::uint64_t()> &read_counters) {
    try {
        const std::uint64_t lost = finish(read_counters());
        return {true, "packet audit: " + std::to_string(reported()) + " blocked packets reported, " +
                          std::to_string(lost) + " lost"};
    } catch (const std::exception &e) {
        return {false, std::string("packet audit: the firewall's drop counters could not be read at the end, so "
                                   "lost packet logs are not counted: ") + e.what()};
    }
}

void PacketAudit::handle(const BlockedPacket &packet) {
    // The self-test's probes: the agent's uid with the probe group, which the agent cannot take.
    if (packet.has_uid && packet.uid == agent_uid_ && packet.has_gid && packet.gid == probe_gid_) {
        skipped_.fetch_add(1);
        return;
    }
    std::optional<std::string> name;
    if (packet.headers.family) {
        std::lock_guard lock(lookup_mutex_);
        if (lookup_)
            name = lookup_(packet_direction(packet.prefix) == "in" ? packet.headers.source : packet.headers.destination);
    }
    emit_(packet_record(packet, name));
    reported_.fetch_add(1);
}

}  // namespace rustyolo::net
