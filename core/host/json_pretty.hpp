// Indented JSON output for humans (`rustyolo plan`); the Plan file itself is compact.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <string>

namespace rustyolo {

std::string pretty_json(const boost::json::value &value);

}  // namespace rustyolo
