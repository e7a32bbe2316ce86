// Step "plugins": load the in-container plugins the Plan names (file stems under the image's
// plugin directory) and pick out the ones the following steps call.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>
#include "core/loader/plugin_loader.hpp"

#include <string>
#include <vector>

namespace rustyolo::entrypoint {

struct ContainerPlugins {
    std::vector<const LoadedPlugin *> network;  // with a network hook, in the Plan's order
    const LoadedPlugin *syscall = nullptr;      // the Plan's syscalls.plugin (has syscall.install)
    const LoadedPlugin *firewall_plugin = nullptr;  // the Plan's network.firewall (has a network hook)
    const LoadedPlugin &firewall() const { return *firewall_plugin; }
};

// Loads `dir`/<stem>.so for each stem of plan.container_plugins. Throws std::runtime_error (or
// PluginLoadError) naming the plugin; requires the Plan's firewall plugin with a network hook and
// its syscall plugin with a syscall hook among them.
ContainerPlugins load_container_plugins(PluginRegistry &registry, const Plan &plan, const std::string &dir);

}  // namespace rustyolo::entrypoint
