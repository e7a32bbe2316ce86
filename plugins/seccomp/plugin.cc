// The `seccomp` plugin: the syscall policy. Host side: resolves --seccomp-profile into the Plan.
// Container side: builds and loads the filter with libseccomp just before the agent is exec'd.
#include "plugins/seccomp/notify.hpp"
#include "plugins/seccomp/policy.hpp"
#include "plugins/seccomp/profile.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <cerrno>
#include <optional>
#include <stdexcept>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;
namespace seccomp = rustyolo::seccomp;

std::string joined(const std::vector<std::string> &names) {
    std::string out;
    for (const auto &name : names)
        out += (out.empty() ? "" : " ") + name;
    return out;
}

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
    // With denials reported, the result carries "notify": {"fd", "errnos", "silent"}: the caller
    // owns the listener fd and hands it to the supervisor (entrypoint/syscall_reporter.hpp).
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
        json::array arches;
        for (auto arch : filter->arches())
            arches.emplace_back(seccomp::arch_name(arch));
        json::object result{{"mode", mode}, {"rules", filter->rules()}, {"arches", std::move(arches)}};

        // Denials are reported through the filter's notifications where that keeps every errno
        // exactly as the policy says (notify.hpp); otherwise the policy is loaded as it is.
        seccomp::ReportingFilter reporting = seccomp::reporting_filter(*filter);
        if (!reporting.warning.empty())
            host().log(sdk::LogLevel::warn, reporting.warning);
        if (!reporting.silent.empty())
            host().log(sdk::LogLevel::debug, "seccomp: denied silently (not audited): " + joined(reporting.silent));
        // Nothing is logged between loading the filter and returning: the caller hands the
        // notification fd over first (seccomp::handover_syscalls()).
        host().log(sdk::LogLevel::debug, "seccomp filter: mode " + mode + ", " + std::to_string(filter->rules()) +
                                             " rules, denials " + (reporting.filter ? "audited" : "not audited"));
        if (reporting.filter) {
            try {
                reporting.filter->load();
            } catch (const seccomp::LoadError &e) {
                if (e.code() != EBUSY)
                    throw;
                host().log(sdk::LogLevel::warn,
                           "syscall denials are not audited: a syscall filter this process inherited already "
                           "sends notifications to another supervisor (seccomp_load: EBUSY)");
                reporting.filter.reset();
            }
        }
        if (!reporting.filter) {
            filter->load();
            return result;
        }
        const int fd = reporting.filter->notify_fd();
        if (fd < 0)
            throw std::runtime_error("seccomp: the filter with notifications is loaded but libseccomp gave no "
                                     "notification fd; the agent's denied syscalls would fail with ENOSYS");
        json::array silent;
        for (const auto &name : reporting.silent)
            silent.emplace_back(name);
        result["notify"] = json::object{{"fd", fd}, {"errnos", std::move(reporting.errnos)}, {"silent", std::move(silent)}};
        return result;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Seccomp, "seccomp", "0.3.0", "Syscall policy: a libseccomp filter applied just before exec")
