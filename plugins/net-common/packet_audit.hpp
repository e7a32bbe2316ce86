// Blocked packets as audit records (docs/audit-schema.md: layer "network", events "packet" and
// "lost"), for both network plugins.
//
// Life cycle, in the supervisor:
//   install    PacketAudit is made (the NFLOG group is bound, the reader runs) BEFORE the firewall
//              is installed: from the table's first packet on, everything the firewall counts can
//              be logged to it.
//   self_test  the self-test's probes run as the agent's uid with the probe group
//              (self_test_probe_gid): packets of exactly that uid and group are received but never
//              reported, whenever their log messages arrive. The agent cannot send as that group:
//              it is not one of its groups and the agent holds no CAP_SETGID (no-new-privileges).
//   destroy    finish(counted): waits until the reader has received as many messages as the
//              firewall counted drops (no wait when it has; otherwise at most until the kernel's
//              flush timer, 10 ms, or the timeout), stops it and reports the difference as one
//              "lost" record, so that the number of packet records (plus the supervisor's
//              suppressed counts) plus lost equals what the kernel dropped. A packet dropped
//              after the counters were read may still be reported; it is not in `counted`.
#pragma once

#include "plugins/net-common/nflog_reader.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace rustyolo::net {

// "in" for blocked_input, "out" otherwise (blocked_output, blocked_guard, blocked_flow_class).
std::string_view packet_direction(std::string_view rule);

// The record for one blocked packet. `name`: the allowed DNS name the remote address (the
// destination going out, the source coming in) was last resolved from.
boost::json::object packet_record(const BlockedPacket &packet, const std::optional<std::string> &name);

// {"layer":"network","verdict":"block","event":"lost","details":{"count":N}}
boost::json::object lost_record(std::uint64_t count);

// Log messages the firewall counted that never arrived (0 when `received` is not behind).
std::uint64_t lost_count(std::uint64_t counted, std::uint64_t received);

// The group the self-test's probes send as: 65532, or 65531 when 65532 is the agent's own group.
std::uint32_t self_test_probe_gid(std::uint32_t agent_gid);

class PacketAudit {
public:
    using Emit = std::function<void(const boost::json::object &record)>;
    using NameLookup = std::function<std::optional<std::string>(const std::string &address)>;

    // Binds the NFLOG group and starts the reader (throws as NflogReader does). Packets of
    // `agent_uid` with group self_test_probe_gid(agent_gid) are the self-test's: not reported.
    PacketAudit(std::uint32_t agent_uid, std::uint32_t agent_gid, Emit emit, std::uint16_t group = nflog_group);
    ~PacketAudit();
    PacketAudit(const PacketAudit &) = delete;
    PacketAudit &operator=(const PacketAudit &) = delete;

    // Where names come from (the DNS feed); until set, every record has "name": null.
    void set_name_lookup(NameLookup lookup);

    std::uint32_t probe_gid() const { return probe_gid_; }

    // The self-test's "packet audit" check: {true, description} while the reader runs.
    std::pair<bool, std::string> self_test_check() const;

    // `counted`: the firewall's drop counters now. Returns how many were lost (and emits the
    // "lost" record when > 0). The reader is stopped afterwards. Call once.
    std::uint64_t finish(std::uint64_t counted, std::chrono::milliseconds timeout = std::chrono::seconds(1));

    // The end of the session for a firewall plugin's destructor: finish() with the counters that
    // `read_counters` gives. Returns {true, summary} or, when they cannot be read, {false, reason}.
    std::pair<bool, std::string> finish_session(const std::function<std::uint64_t()> &read_counters);

    std::uint64_t received() const { return reader_->received(); }
    std::uint64_t reported() const { return reported_.load(); }
    std::uint64_t skipped() const { return skipped_.load(); }

private:
    void handle(const BlockedPacket &packet);

    std::uint32_t agent_uid_;
    std::uint32_t probe_gid_;
    Emit emit_;
    std::mutex lookup_mutex_;
    NameLookup lookup_;
    std::atomic<std::uint64_t> reported_{0};
    std::atomic<std::uint64_t> skipped_{0};
    std::unique_ptr<NflogReader> reader_;
    bool finished_ = false;
};

}  // namespace rustyolo::net
