// The supervisor's end of the audit transport (docs/audit-schema.md, "Transport"): records go as
// JSON lines over the session socket — the one connection the host CLI accepted, made before the
// agent existed. Everything in the container that reports (the supervisor's own steps, the
// network plugin's packet log reader and DNS filter feed, the seccomp notification reader) calls
// audit_emit(); nothing else writes to the socket.
//
// audit_emit() never blocks and never throws: a bounded queue feeds one writer thread, and a token
// bucket (200 records/s, bursts of 2000) limits what is sent. What the limit or a full queue holds
// back is counted by summary key and sent as "lifecycle/suppressed" records, so totals stay exact:
// as many lines as the counts need, none longer than the host accepts (suppressed_tally.hpp). A
// record that cannot even be counted by key (out of memory) is counted as "lost" in them. A record
// counts as many events as it stands for (audit::weight).
//
// The supervisor's own records skip the token bucket: its lifecycle records (self_test, exit), the
// firewall plugin's final network "lost" record and the records of live policy changes (`rustyolo
// allow` / `deny`, made one at a time by the user over the control socket). The first are a
// handful by construction (at most 64 per session skip it), policy records at most 4096 per
// session; any further ones are limited like the rest, and a flood must never turn the session's
// exit or a policy change into a count.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace rustyolo::entrypoint {

// Starts the writer on `fd` (a duplicate of the session socket; the channel owns it), or with
// fd < 0 (no session socket: a pasted --dry-run command) sends records to the supervisor's log.
// `level` is the Plan's audit level; at "none" every record is dropped uncounted.
void audit_start(int fd, std::string level);

// Queues one record (layer, verdict, event and details as in docs/audit-schema.md; time is set
// here). Thread-safe; callable before audit_start() (records are queued) and after
// audit_finish() (records are dropped). Records the level excludes are dropped here.
void audit_emit(std::string_view layer, std::string_view verdict, std::string_view event,
                boost::json::object details);

// The same for a record a plugin built ({"layer", "verdict", "event", "details"}); anything else
// is logged as a plugin fault and dropped.
void audit_emit_from_plugin(const std::string &plugin, const boost::json::object &record);

// Queues one control frame (core/control/frame.hpp: a response to the host) to go out between
// the records, past the level and the rate limit: the writer thread is the only one that writes
// to the session socket, so frames and records never interleave within a line.
void audit_send_frame(std::string line);

// Sends the last suppressed counts and what is queued, then stops the writer. Waits at most
// `timeout_ms` for the host to take it (the host may be gone).
void audit_finish(int timeout_ms = 2000);

}  // namespace rustyolo::entrypoint
