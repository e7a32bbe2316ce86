#include "entrypoint/container_plugins.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace rustyolo::entrypoint {

namespace {

// A stem is a file name without ".so": no slash, no dot, nothing to escape the plugin directory.
bool valid_stem(const std::string &stem) {
    return !stem.empty() && stem.size() <= 64 && std::all_of(stem.begin(), stem.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

}  // namespace

ContainerPlugins load_container_plugins(PluginRegistry &registry, const Plan &plan, const std::string &dir) {
    std::map<std::string, const LoadedPlugin *> by_stem;
    std::vector<const LoadedPlugin *> in_order;
    for (const std::string &stem : plan.container_plugins) {
        if (!valid_stem(stem))
            throw std::runtime_error("plan: /container_plugins: \"" + stem +
                                     "\" is not a plugin file stem ([a-z0-9_-]+)");
        if (by_stem.count(stem))
            continue;
        const LoadedPlugin &plugin = registry.load(dir + "/" + stem + ".so", true);
        spdlog::debug("plugin {} {} loaded from {}", plugin.name(), plugin.version(), plugin.path());
        by_stem[stem] = &plugin;
        in_order.push_back(&plugin);
    }

    ContainerPlugins out;
    for (const LoadedPlugin *plugin : in_order)
        if (plugin->network())
            out.network.push_back(plugin);

    auto firewall = by_stem.find(plan.network.firewall);
    if (firewall == by_stem.end())
        throw std::runtime_error("plan: the firewall plugin \"" + plan.network.firewall +
                                 "\" (/network/firewall) is not among /container_plugins; refusing to "
                                 "start the agent without a firewall");
    if (!firewall->second->network())
        throw std::runtime_error("plugin " + firewall->second->name() + " (" + firewall->second->path() +
                                 ") is the Plan's firewall but has no network hook");
    out.firewall_plugin = firewall->second;

    auto syscall = by_stem.find(plan.syscalls.plugin);
    if (syscall == by_stem.end())
        throw std::runtime_error("plan: the syscall plugin \"" + plan.syscalls.plugin +
                                 "\" (/syscalls/plugin) is not among /container_plugins");
    if (!syscall->second->syscall() || !syscall->second->syscall()->install)
        throw std::runtime_error("plugin " + syscall->second->name() + " (" + syscall->second->path() +
                                 ") is the Plan's syscall plugin but cannot install a filter "
                                 "(no syscall.install)");
    out.syscall = syscall->second;
    return out;
}

}  // namespace rustyolo::entrypoint
