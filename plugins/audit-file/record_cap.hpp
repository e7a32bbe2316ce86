// The audit file's size cap per session ([security] audit_max_bytes, --audit-max-bytes; the host
// passes it to open() as "max_bytes"). A flood of records, or of suppressed records, must not fill
// the user's disk, and dropping detail must never go unsaid or make the totals wrong:
//
//   - records are written as they come while the file stays under max_bytes - kReserve;
//   - the first record that does not fit is replaced by a "lifecycle/capped" record (same seq and
//     time) saying that detail is dropped from here on; later records are dropped and counted;
//   - the session's last records (lifecycle "exit" and "transport") still go into the reserve;
//   - at close, when anything was dropped, a last "lifecycle/dropped" record says how many records
//     (and which seq range) were dropped, and carries the host's exact blocked total and the most
//     frequent keys of its counts.
// The file never grows beyond max_bytes. Records are serialized exactly as received.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::audit_file {

class RecordCap {
public:
    static constexpr std::uint64_t kReserve = 48 * 1024;   // for the last records and the tally
    static constexpr std::uint64_t kTallyRoom = 16 * 1024;  // the "dropped" record, at most

    // `max_bytes` 0: no cap. Otherwise at least kReserve + 16 KiB (the host allows 64 KiB and up).
    explicit RecordCap(std::uint64_t max_bytes = 0);

    // The lines (without newline) to append for `record`: the record itself, nothing, or the
    // "capped" marker in its place.
    std::vector<std::string> admit(const boost::json::object &record);
    // The lines to append at the end of the session, given the host's close() summary
    // ({"exit_code", "counts": {key: n}}): the "dropped" record when anything was dropped.
    std::vector<std::string> finish(const boost::json::object &summary);

    std::uint64_t written() const { return written_; }
    std::uint64_t dropped() const { return dropped_; }

private:
    boost::json::object own_record(const char *event, boost::json::object details, boost::json::value seq) const;

    std::uint64_t max_;
    std::uint64_t written_ = 0;
    std::uint64_t dropped_ = 0;
    bool capped_ = false;
    boost::json::value first_dropped_seq_, last_dropped_seq_, last_seq_;
    boost::json::value session_, last_time_;
};

}  // namespace rustyolo::audit_file
