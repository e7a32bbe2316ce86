// The `seccomp` plugin: the syscall policy. Host side: resolves --seccomp-profile into the Plan.
// Container side: builds and loads the filter with libseccomp just before the agent is exec'd.
#include "policy.hpp"
#include "profile.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <optional>
#include <stdexcept>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;
namespace seccomp = rustyolo::seccomp;

class Seccomp : public sdk::Plugin, public sdk::SyscallHook {
public:
    using sdk::Plugin::Plugin;

    json::value prepare(const json::object &request) override {
        try {
            return seccomp::prepare(request);
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
    }

    // Runs in the process that is about to exec the agent: privileges dropped, no_new_privs set.
    json::value install(const json::object &plan) override {
        // Loading a filter is irreversible: never into the host CLI by mistake.
        if (host().side() != "container")
            throw sdk::Unsupported("seccomp install runs only inside the container (rustyolo-entrypoint)");
        const auto *syscalls = plan.if_contains("syscalls");
        if (!syscalls || !syscalls->is_object())
            throw sdk::InvalidInput("plan: /syscalls: missing");
        auto log = [this](seccomp::LogLevel level, const std::string &message) {
            host().log(level == seccomp::LogLevel::debug  ? sdk::LogLevel::debug
                       : level == seccomp::LogLevel::info ? sdk::LogLevel::info
                                                          : sdk::LogLevel::warn,
                       message);
        };
        std::optional<seccomp::Filter> filter;
        try {
            filter = seccomp::policy_filter(syscalls->as_object(), log);
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
        const std::string mode(syscalls->as_object().at("mode").as_string());
        if (!filter)
            return json::object{{"mode", mode}, {"rules", 0}, {"arches", json::array{}}};
        filter->load();
        json::array arches;
        for (auto arch : filter->arches())
            arches.emplace_back(seccomp::arch_name(arch));
        host().log(sdk::LogLevel::debug,
                   "seccomp filter loaded: mode " + mode + ", " + std::to_string(filter->rules()) + " rules");
        return json::object{{"mode", mode}, {"rules", filter->rules()}, {"arches", std::move(arches)}};
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Seccomp, "seccomp", "0.2.0", "Syscall policy: a libseccomp filter applied just before exec")
