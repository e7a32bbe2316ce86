#include "entrypoint/network.hpp"

#include "entrypoint/audit_channel.hpp"

#include <rustyolo/sdk/json_reader.hpp>

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace rustyolo::entrypoint {

namespace json = boost::json;

namespace {

constexpr const char *kFailClosed = "; the agent is not started without its network policy (fail closed)";

std::string describe(const LoadedPlugin &plugin) {
    return "plugin " + plugin.name() + " (" + plugin.path() + ")";
}

json::value call_hook(const LoadedPlugin &plugin, const char *hook, LoadedPlugin::RequestFn fn,
                      const json::value &plan) {
    if (!fn)
        throw std::runtime_error(describe(plugin) + " has a network hook without " + hook + kFailClosed);
    try {
        return plugin.call(hook, fn, plan);
    } catch (const std::exception &e) {
        throw std::runtime_error(std::string(e.what()) + kFailClosed);
    }
}

// A self-test passes when the plugin says OK and none of the checks it lists says otherwise.
// The result is read strictly: a check without a boolean "ok" is an error, never a pass.
void check_self_test(const LoadedPlugin &plugin, const json::value &result) {
    if (!result.is_object())
        return;  // no checks listed
    bool passed = true;
    std::string failed;
    try {
        const sdk::JsonReader reader(result, describe(plugin) + " network.self_test result");
        reader.each("checks", [&](const sdk::JsonReader &check) {
            spdlog::info("[{}] self-test: {}", plugin.name(), json::serialize(check.object()));
            if (passed && !check.boolean("ok")) {
                passed = false;
                failed = json::serialize(check.object());
            }
        });
    } catch (const sdk::JsonError &e) {
        throw std::runtime_error(e.what() + std::string(kFailClosed));
    }
    if (!passed)
        throw std::runtime_error(describe(plugin) + ": network.self_test check failed: " + failed + kFailClosed);
}

}  // namespace

void apply_network_policy(const ContainerPlugins &plugins, const json::value &plan) {
    if (plugins.network.empty())
        throw std::runtime_error("no loaded plugin has a network hook" + std::string(kFailClosed));
    // All installs first (the firewall, then what feeds it, in the Plan's order), then all
    // self-tests, so that each test sees the complete policy.
    for (const LoadedPlugin *plugin : plugins.network) {
        json::value result = call_hook(*plugin, "network.install", plugin->network()->install, plan);
        spdlog::info("[{}] installed: {}", plugin->name(), json::serialize(result));
    }
    for (const LoadedPlugin *plugin : plugins.network) {
        json::value result;
        try {
            result = call_hook(*plugin, "network.self_test", plugin->network()->self_test, plan);
            check_self_test(*plugin, result);
        } catch (const std::exception &e) {
            audit_emit("lifecycle", "info", "self_test",
                       json::object{{"plugin", plugin->name()}, {"result", "fail"}, {"reason", e.what()}});
            throw;
        }
        const json::object *object = result.if_object();
        const json::value *checks = object ? object->if_contains("checks") : nullptr;
        audit_emit("lifecycle", "info", "self_test",
                   json::object{{"plugin", plugin->name()},
                                {"result", "pass"},
                                {"checks", checks ? *checks : json::value(json::array{})}});
    }
}

}  // namespace rustyolo::entrypoint
