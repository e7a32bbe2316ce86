// Step "plan": the Plan the host CLI wrote, mounted read-only at /run/rustyolo/plan.json.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace rustyolo::entrypoint {

struct LoadedPlan {
    Plan plan;                    // parsed and validated
    boost::json::value document;  // the file as written, handed to the plugins' hooks
};

// Reads and validates the Plan (refusing another schema, a root agent, relative paths).
// Throws std::runtime_error naming the file or the JSON path that is wrong.
LoadedPlan load_plan(const std::string &path);

// The same for the file's content; `origin` (the file's path) is named in errors.
LoadedPlan load_plan_text(std::string_view text, const std::string &origin);

}  // namespace rustyolo::entrypoint
