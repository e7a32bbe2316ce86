// Step "network": every network plugin installs its part of the policy (firewall, DNS filter),
// then every one verifies it. Fails closed: any plugin that cannot install or verify stops the
// start, and the agent never runs without its firewall.
#pragma once

#include "core/private_header.hpp"

#include "entrypoint/container_plugins.hpp"

#include <boost/json.hpp>

namespace rustyolo::entrypoint {

// Throws std::runtime_error naming the plugin and the hook that failed.
void apply_network_policy(const ContainerPlugins &plugins, const boost::json::value &plan);

}  // namespace rustyolo::entrypoint
