// mount-guard: the built-in mount guard. Maps the mount hook's JSON (plugin_abi.h) onto
// judge_mount(); the policy itself lives in mount_rules.cc.
#include "plugins/mount-guard/mount_rules.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <cstdlib>
#include <memory>

namespace rustyolo::mount_guard {
namespace {

namespace json = boost::json;

std::string required_string(const json::object &request, std::string_view key) {
    const json::value &value = sdk::require(request, key);
    if (!value.is_string())
        throw sdk::InvalidInput("mount request field '" + std::string(key) + "' must be a string");
    return std::string(value.as_string());
}

bool optional_bool(const json::object &request, std::string_view key) {
    auto it = request.find(key);
    if (it == request.end() || it->value().is_null())
        return false;
    if (!it->value().is_bool())
        throw sdk::InvalidInput("mount request field '" + std::string(key) + "' must be true or false");
    return it->value().as_bool();
}

// The home directory with symlinks resolved, or "" when it cannot be resolved.
std::string real_home(const std::string &home) {
    if (home.empty())
        return {};
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(home.c_str(), nullptr), &std::free);
    return real ? std::string(real.get()) : std::string();
}

class MountGuard final : public sdk::Plugin, public sdk::MountHook {
public:
    using sdk::Plugin::Plugin;

    json::value judge(const json::object &request) override {
        MountRequest mount;
        mount.source = required_string(request, "source");
        mount.requested = sdk::string_or(request, "requested", "");
        mount.target = required_string(request, "target");
        mount.readonly = optional_bool(request, "readonly");
        mount.file_type = required_string(request, "file_type");
        mount.home = sdk::string_or(request, "home", "");
        mount.session_dir = sdk::string_or(request, "session_dir", "");
        mount.origin = sdk::string_or(request, "origin", "");
        mount.bound_sockets = live_socket_paths();

        MountVerdict verdict = judge_mount(mount);
        // The source is canonical, the home as given may not be (e.g. /home -> /usr/home): judge
        // against the resolved home as well, so ~/.ssh is found under either spelling.
        std::string resolved = real_home(mount.home);
        if (verdict.allowed && !resolved.empty() && resolved != mount.home) {
            mount.home = resolved;
            verdict = judge_mount(mount);
        }
        json::array warnings;
        for (const auto &warning : verdict.warnings)
            warnings.emplace_back(warning);
        return json::object{{"verdict", verdict.allowed ? "allow" : "refuse"},
                            {"rule", verdict.rule},
                            {"reason", verdict.reason},
                            {"warnings", std::move(warnings)}};
    }
};

}  // namespace
}  // namespace rustyolo::mount_guard

RUSTYOLO_PLUGIN(rustyolo::mount_guard::MountGuard, "mount-guard", "1.0.0",
                "Refuses mounts of sockets (also live ones inside a directory), devices, container-engine paths, host roots "
                "and secret dirs")
