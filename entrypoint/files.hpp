// Reading the small files the supervisor trusts (the Plan, /etc/passwd, /etc/group): never through
// a symlink, only regular files, bounded in size.
#pragma once

#include "core/private_header.hpp"

#include <cstddef>
#include <string>

namespace rustyolo::entrypoint {

// The whole content of `path`. Throws std::runtime_error naming the file: when it cannot be opened
// (adding `missing_hint` when it does not exist), is a symlink or not a regular file, or is larger
// than `max_size` bytes.
std::string read_regular_file(const std::string &path, std::size_t max_size, const std::string &missing_hint = "");

}  // namespace rustyolo::entrypoint
