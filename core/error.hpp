// Errors that reach the user. Each carries what failed, on what, and what to do; the CLI prints
// them once, as they are, and exits non-zero.
#pragma once

#include "core/private_header.hpp"

#include <stdexcept>
#include <string>

namespace rustyolo {

// A user-facing error: bad input, a refused plugin, a refused mount, a missing image...
class Error : public std::runtime_error {
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

// Bad user input (flags, config values, environment). Exit code 2.
class UsageError : public Error {
public:
    using Error::Error;
};

}  // namespace rustyolo
