// The end-of-session summary on stderr: what was blocked, grouped by layer, and where the records are.
#pragma once

#include "core/private_header.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace rustyolo {

// A few short lines (each ending in '\n'), one per layer with blocks, e.g.
//   rustyolo: 3 connections blocked: evil.test:443/tcp ×2, 10.1.2.3:22/tcp — allow with --allow-domains NAME
// then `rustyolo: records: <location>`. Keys are summary keys (docs/audit-schema.md) with their exact
// counts; each layer lists its 5 most frequent keys and "and N more". With no blocks (an empty map or
// only zero counts): the single line `rustyolo: nothing was blocked (records: <location>)`.
std::string format_summary(const std::map<std::string, std::uint64_t> &blocked_counts, const std::string &location);

}  // namespace rustyolo
