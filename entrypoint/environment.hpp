// Step "environment": the agent's environment, built from scratch. Nothing of the entrypoint's
// own environment reaches the agent unless the Plan names it.
#pragma once

#include "core/private_header.hpp"

#include "entrypoint/agent_account.hpp"
#include <rustyolo/sdk/plan.hpp>

#include <functional>
#include <string>
#include <vector>

namespace rustyolo::entrypoint {

inline constexpr const char *kAgentPath = "/opt/rustyolo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

using GetenvFn = std::function<const char *(const char *)>;

// "NAME=value" entries, in this order: PATH, HOME, USER, LOGNAME, SHELL, TERM (when the container
// has one), LANG=C.UTF-8, then the Plan's env entries: a value from the Plan, or for a name-only
// entry the value the runtime passed to the entrypoint (docker --env NAME; skipped when unset).
// A later entry replaces an earlier one of the same name in place. Throws std::runtime_error for
// a name that cannot be a variable name.
std::vector<std::string> agent_environment(const Plan &plan, const AgentAccount &account,
                                           const GetenvFn &getenv_fn);

}  // namespace rustyolo::entrypoint
