// What the audit channel could not send as records, counted so that totals stay exact
// (docs/audit-schema.md, "Rate limit and exact counts"), and turned into "lifecycle/suppressed"
// lines that each fit the transport's line limit, whatever the number or length of the keys.
//
// Why the split: the host refuses a line longer than audit::kMaxWireLine. One suppressed record
// holding 1024 keys was far longer, so the host refused it and every event it counted was gone —
// the flood that filled it hid itself. Now the counts of one interval go out as as many lines as
// they need (each with its own "total"), and the number of keys is bounded by falling back to
// coarser keys (audit::coarse_summary_key, then audit::catch_all_summary_key), so memory stays
// bounded and a connection hidden in a flood of distinct keys is still findable by its address
// and protocol.
//
// Not thread-safe: the channel holds its mutex around every call.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::entrypoint {

class SuppressedTally {
public:
    static constexpr std::size_t kMaxKeys = 1024;       // distinct keys as they are, per interval
    static constexpr std::size_t kMaxCoarseKeys = 256;  // then coarse keys; then catch-all keys
    static constexpr std::size_t kMaxKeyBytes = 512;    // a longer key is cut and ends in kCutMark
    static constexpr std::string_view kCutMark = "...(cut)";

    // One record not sent: the events it stands for (audit::weight: a network "lost" record its
    // count, a resource record its "new", any other 1) counted under its summary key (or a
    // coarser one, see above).
    void count(std::string_view verdict, const boost::json::object &record);
    // A record that could not even be counted by key (out of memory while building it): its
    // `events` (its weight) counted by verdict only and sent as "lost". Never allocates, never throws.
    void lost(std::string_view verdict, std::uint64_t events = 1) noexcept;

    bool empty() const;
    // Every count as suppressed record lines (without newlines), each at most `max_line` bytes
    // (at least 2048), and clears the tally. Each line's details are {"total": {verdict: n},
    // "lost": {verdict: n} (only in the first line, only when some), "counts": {verdict: {key: n}}},
    // "total" first so that a reader of a cut line still learns how many events it stood for.
    std::vector<std::string> take_lines(std::size_t max_line);

private:
    static std::size_t verdict_index(std::string_view verdict);

    std::array<std::map<std::string, std::uint64_t>, 3> counts_;  // block, allow, info
    std::array<std::uint64_t, 3> lost_{};
    std::size_t keys_ = 0, coarse_keys_ = 0;
};

}  // namespace rustyolo::entrypoint
