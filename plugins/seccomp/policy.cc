#include "plugins/seccomp/policy.hpp"

#include "plugins/seccomp/default_policy.hpp"
#include "plugins/seccomp/docker_profile.hpp"

#include <stdexcept>

namespace rustyolo::seccomp {

std::optional<Filter> policy_filter(const boost::json::object &syscalls, const Log &log) {
    const auto *mode_value = syscalls.if_contains("mode");
    if (!mode_value || !mode_value->is_string())
        throw std::invalid_argument("plan: /syscalls/mode: expected \"default\", \"profile\" or \"none\"");
    const std::string mode(mode_value->as_string());
    if (mode == "default")
        return default_filter();
    if (mode == "profile") {
        const auto *profile = syscalls.if_contains("profile");
        if (!profile || !profile->is_object())
            throw std::invalid_argument("plan: /syscalls/profile: mode \"profile\" needs the profile object");
        return profile_filter(*profile, log);
    }
    if (mode == "none") {
        if (log)
            log(LogLevel::warn, kDisabledWarning);
        return std::nullopt;
    }
    throw std::invalid_argument("plan: /syscalls/mode: \"" + mode +
                                "\" is not one of default, profile, none");
}

}  // namespace rustyolo::seccomp
