// The supervisor's audit records as the host reads them (core/cli/run.cc): the session socket's
// byte stream split into lines (WireLineReader, the SessionSocket's reader), each line handed to
// AuditHub::wire_line (checked, stamped, counted; a refused line salvaged with salvage_line), then
// the session finished (the transport and exit records, the blocked counts).
//
// The hub has no sinks here; everything before the sink call runs. Properties: the blocked counts
// stay bounded (kMaxBlockedKeys plus the catch-alls), a line the hub accepts has summary keys of
// printable ASCII, and a complete line is salvaged as it reads.
#include "core/audit/hub.hpp"
#include "core/audit/record.hpp"
#include "core/host/session_socket.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <spdlog/spdlog.h>

#include <string>

using namespace rustyolo;

namespace {

bool printable(const std::string &s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x7f)
            return false;
    return true;
}

// A top-level string field as salvage_line keeps it (its first 64 bytes: longer ones name nothing).
std::string string_at(const boost::json::object &record, std::string_view key) {
    const boost::json::value *v = record.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string().subview(0, 64)) : std::string();
}

// A line that is complete JSON, read as the hub reads it:
// - accepted, what the host derives from it (shown on the terminal, used as count keys) is
//   printable ASCII;
// - refused, it stands for what the same record would if it were accepted (docs/audit-schema.md,
//   "Refused lines"): salvage_line reads the same layer, verdict and event as the parser, and the
//   same weight as audit::weight.
void check_line(std::string_view line, bool overlong) {
    if (overlong)
        return;
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 16;
    boost::json::value value = boost::json::parse(line, ec, {}, options);
    if (ec || !value.is_object())
        return;
    const boost::json::object &record = value.as_object();
    if (!audit::check_wire_record(value))
        for (const std::string &key :
             {audit::summary_key(record), audit::coarse_summary_key(record), audit::catch_all_summary_key(record)})
            fuzz::check(printable(key), "a summary key with a control or non-ASCII byte", key);
    const audit::Salvage salvage = audit::salvage_line(line);
    const std::string shown(line.substr(0, 200));
    fuzz::check(salvage.layer == string_at(record, "layer") && salvage.verdict == string_at(record, "verdict") &&
                    salvage.event == string_at(record, "event"),
                "a complete line is salvaged with other fields than it has", shown);
    if (salvage.event != "suppressed")
        fuzz::check(salvage.weight_known && salvage.weight == audit::weight(record),
                    "a complete line is salvaged with another weight than audit::weight",
                    shown + " -> " + (salvage.weight_known ? std::to_string(salvage.weight) : "unknown") +
                        " instead of " + std::to_string(audit::weight(record)));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    AuditHub hub({}, AuditSessionInfo{"fuzz-session", "claude", "verbose", "", "/dev/log", kDefaultAuditMaxBytes});
    WireLineReader reader(
        [&hub](std::string_view line, bool overlong) {
            fuzz::check(line.size() <= audit::kMaxWireLine, "a line longer than the limit reached the hub");
            check_line(line, overlong);
            hub.wire_line(line, overlong);
        },
        audit::kMaxWireLine);
    // As read() hands it over: in pieces of at most 64 KiB (here smaller, so lines span reads).
    const char *bytes = reinterpret_cast<const char *>(data);
    for (std::size_t at = 0; at < size; at += 4096)
        reader.take(bytes + at, std::min<std::size_t>(4096, size - at));
    reader.end();
    hub.finish(0, "agent exited");
    const auto counts = hub.blocked_counts();
    fuzz::check(counts.size() <= AuditHub::kMaxBlockedKeys + 64, "the blocked counts grew without bound");
    return 0;
}
