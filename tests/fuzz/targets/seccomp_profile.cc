// A Docker-format seccomp profile (--seccomp-profile FILE, [security] seccomp_profile): the host
// parses and validates it into the Plan (plugins/seccomp/profile.cc: json::parse,
// validate_docker_profile), the container builds the libseccomp filter from the Plan's section
// (policy_filter -> profile_filter; built, never loaded here) and the filter that reports its
// denials (reporting_filter), and the engine's profile is derived from a profile
// (engine_profile_with).
#include "plugins/seccomp/docker_profile.hpp"
#include "plugins/seccomp/engine_profile.hpp"
#include "plugins/seccomp/notify.hpp"
#include "plugins/seccomp/policy.hpp"
#include "plugins/seccomp/profile.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace json = boost::json;
using namespace rustyolo;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    json::error_code ec;
    json::value profile = json::parse(fuzz::text(data, size), ec);
    if (ec)
        return 0;
    try {
        seccomp::validate_docker_profile(profile, "fuzz.json");
    } catch (const std::invalid_argument &) {
        return 0;
    }
    try {
        std::optional<seccomp::Filter> filter =
            seccomp::policy_filter(json::object{{"mode", "profile"}, {"profile", profile}}, seccomp::Log{});
        fuzz::check(filter.has_value(), "mode profile gave no filter");
        seccomp::ReportingFilter reporting = seccomp::reporting_filter(*filter);
        (void)reporting;
    } catch (const std::invalid_argument &) {
        // a malformed profile the host's validation lets through is refused here, with a reason
    } catch (const std::runtime_error &) {
        // libseccomp refused a rule (named)
    }
    try {
        json::value engine = seccomp::engine_profile_with(profile, {"ptrace", "mount", "clone3"});
        fuzz::check(engine.is_object(), "engine profile is not an object");
    } catch (const std::invalid_argument &) {
    }
    return 0;
}
