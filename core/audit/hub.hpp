// The host's audit fan-out: takes the session's records — its own (mount refusals, the start)
// and the supervisor's, as JSON lines over the session socket — checks them, stamps them with
// schema, session and seq (docs/audit-schema.md), counts what was blocked, and hands each one to
// the selected sink plugins (audit-file, audit-syslog, third-party ones). Sinks are opened with the
// first record, so a start refused for a bad flag leaves no empty session behind; a sink that
// cannot open refuses the start.
#pragma once

#include "core/private_header.hpp"

#include "core/loader/plugin_loader.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo {

// [security] audit_max_bytes by default: 64 MiB.
inline constexpr std::uint64_t kDefaultAuditMaxBytes = 64ull * 1024 * 1024;

struct AuditSessionInfo {
    std::string session;
    std::string agent;
    std::string level;          // none | basic | verbose
    std::string directory;      // the configured audit directory, "" for the sink's default
    std::string syslog_socket;  // the syslog sink's socket
    std::uint64_t file_max_bytes = kDefaultAuditMaxBytes;  // the file sink's cap per session
};

// The plugins that serve `names` ("file" or "audit-file"; every one must exist and have audit
// hooks). Throws UsageError naming an unknown sink and listing the ones there are.
std::vector<const LoadedPlugin *> find_audit_sinks(const PluginRegistry &registry,
                                                   const std::vector<std::string> &names);

class AuditHub {
public:
    AuditHub(std::vector<const LoadedPlugin *> sinks, AuditSessionInfo info);
    AuditHub(const AuditHub &) = delete;
    AuditHub &operator=(const AuditHub &) = delete;

    bool enabled() const { return info_.level != "none"; }

    // A record the host itself makes (time is now). Throws Error when a sink cannot be opened.
    void host_record(std::string_view layer, std::string_view verdict, std::string_view event,
                     boost::json::object details);
    // A line from the supervisor (SessionSocket's handler). Never throws. A line that is refused
    // (too long, not JSON, not a record) is counted, and what it stood for is counted too as far
    // as it can be read (audit::salvage_line): a suppressed record's "total", or one record of
    // its verdict; its blocked events go into the exact counts under "lifecycle refused".
    void wire_line(std::string_view line, bool overlong);

    // Ends the session's records: a lifecycle/transport record when lines were refused (how many,
    // the first one's problem, and what they stood for), a
    // lifecycle/exit record when the supervisor sent none (`reason`), then closes the sinks.
    void finish(int exit_code, const std::string &reason);

    // Exact blocked counts by summary key (records plus what the supervisor suppressed). At most
    // kMaxBlockedKeys keys (and a few catch-alls): later new keys are counted under "*" keys.
    static constexpr std::size_t kMaxBlockedKeys = 16384;
    std::map<std::string, std::uint64_t> blocked_counts() const;
    // Where the sinks put the records ("location" from each open), once opened.
    std::vector<std::string> locations() const;
    // Whether any record was written (the sinks were opened).
    bool opened() const;

private:
    void open_sinks();                        // with mutex_ held
    void write(boost::json::object record);   // with mutex_ held; record is a checked wire record
    void account_refused(std::string_view line);  // with mutex_ held
    void count_blocked(const std::string &key, std::uint64_t n);  // with mutex_ held

    std::vector<const LoadedPlugin *> sinks_;
    AuditSessionInfo info_;
    mutable std::mutex mutex_;
    bool opened_ = false, open_failed_ = false, finished_ = false, exit_seen_ = false;
    std::uint64_t seq_ = 0;
    std::uint64_t refused_lines_ = 0;
    std::uint64_t refused_events_[3] = {0, 0, 0};  // what refused lines stood for: block, allow, info
    std::uint64_t refused_unknown_ = 0;            // refused lines of which not even that could be read
    std::string first_refusal_;
    std::vector<std::uint64_t> sink_failures_;
    std::vector<std::string> locations_;
    std::map<std::string, std::uint64_t> blocked_;
};

}  // namespace rustyolo
