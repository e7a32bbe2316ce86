// Which environment variables a user may pass into the sandbox (-e / config `env`).
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <string_view>

namespace rustyolo {

// Parses "NAME=VALUE" (explicit value) or "NAME" (passed from the host environment by name).
// Refuses invalid names, rustyolo's own control variables (RUSTYOLO_*) and variables that make a
// program load code (LD_PRELOAD, BASH_ENV, ...), naming the variable, why, and what to do.
PlanEnv parse_env_entry(std::string_view entry, std::string_view origin);

// True for names that make a dynamic linker, shell or interpreter load extra code.
bool is_code_loading_variable(std::string_view name);

}  // namespace rustyolo
