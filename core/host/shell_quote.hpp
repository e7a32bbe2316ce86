// Quotes an argv for display so that it can be pasted into a POSIX shell (used by --dry-run).
// Display only: rustyolo itself never runs anything through a shell.
#pragma once

#include "core/private_header.hpp"

#include <string>
#include <vector>

namespace rustyolo {

std::string shell_quote(const std::string &word);
std::string shell_join(const std::vector<std::string> &argv);

}  // namespace rustyolo
