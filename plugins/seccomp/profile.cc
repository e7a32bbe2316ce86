#include "plugins/seccomp/profile.hpp"

#include "plugins/seccomp/engine_profile.hpp"

#include <rustyolo/sdk/json_reader.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace rustyolo::seccomp {

namespace json = boost::json;

namespace {

[[noreturn]] void bad(const std::string &origin, const std::string &path, const std::string &what) {
    throw std::invalid_argument("--seccomp-profile " + origin + ": " + path + ": " + what +
                                " (expected Docker's seccomp profile format)");
}

bool known_action(std::string_view action) {
    return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_KILL" ||
           action == "SCMP_ACT_KILL_PROCESS" || action == "SCMP_ACT_KILL_THREAD" ||
           action == "SCMP_ACT_TRAP" || action == "SCMP_ACT_TRACE" || action == "SCMP_ACT_LOG";
}

}  // namespace

void validate_docker_profile(const json::value &profile, const std::string &origin) {
    if (!profile.is_object())
        bad(origin, "/", "the profile must be a JSON object");
    const auto &o = profile.as_object();
    const auto *def = o.if_contains("defaultAction");
    if (!def || !def->is_string() || !known_action(def->as_string()))
        bad(origin, "/defaultAction", "missing or not a known SCMP_ACT_* action");
    const auto *syscalls = o.if_contains("syscalls");
    if (!syscalls)
        return;
    if (!syscalls->is_array())
        bad(origin, "/syscalls", "must be an array");
    std::size_t i = 0;
    for (const auto &rule : syscalls->as_array()) {
        std::string at = "/syscalls/" + std::to_string(i++);
        if (!rule.is_object())
            bad(origin, at, "must be an object");
        const auto &r = rule.as_object();
        const auto *names = r.if_contains("names");
        const auto *name = r.if_contains("name");
        if (names) {
            if (!names->is_array() || names->as_array().empty())
                bad(origin, at + "/names", "must be a non-empty array of syscall names");
            for (const auto &n : names->as_array())
                if (!n.is_string() || n.as_string().empty())
                    bad(origin, at + "/names", "must contain syscall names");
        } else if (!name || !name->is_string()) {
            bad(origin, at, "needs \"names\" (or \"name\")");
        }
        const auto *action = r.if_contains("action");
        if (!action || !action->is_string() || !known_action(action->as_string()))
            bad(origin, at + "/action", "missing or not a known SCMP_ACT_* action");
        if (const auto *args = r.if_contains("args"); args && !args->is_null() && !args->is_array())
            bad(origin, at + "/args", "must be an array");
    }
}

namespace {

// The request's "profile" (absent: "default") and "path" (absent: the profile itself), read
// strictly: a field of the wrong type is an error naming it, never taken as "default".
std::pair<std::string, std::string> requested_profile(const json::object &request) {
    try {
        const json::value value(request);
        const sdk::JsonReader reader(value, "seccomp prepare request");
        std::string profile = reader.str_or("profile", "default");
        std::string path = reader.str_or("path", profile);
        return {std::move(profile), std::move(path)};
    } catch (const sdk::JsonError &e) {
        throw std::invalid_argument(e.what());
    }
}

json::object policy_section(const json::object &request) {
    const auto [profile, path] = requested_profile(request);
    if (profile == "default")
        return {{"mode", "default"}, {"profile", nullptr}, {"warnings", json::array{}}};
    if (profile == "none")
        return {{"mode", "none"},
                {"profile", nullptr},
                {"warnings", json::array{"SECCOMP IS DISABLED (--seccomp-profile none): the agent may "
                                         "call ptrace, mount, bpf, io_uring and every other syscall the "
                                         "engine's own profile allows"}}};
    std::ifstream in(path);
    if (!in)
        throw std::invalid_argument("--seccomp-profile " + profile + ": cannot read " + path +
                                    "; give a Docker-format JSON profile, \"default\" or \"none\"");
    std::stringstream text;
    text << in.rdbuf();
    json::error_code ec;
    json::value value = json::parse(text.str(), ec);
    if (ec)
        throw std::invalid_argument("--seccomp-profile " + profile + ": " + path +
                                    " is not valid JSON: " + ec.message());
    validate_docker_profile(value, profile);
    return {{"mode", "profile"}, {"profile", value}, {"warnings", json::array{}}};
}

}  // namespace

json::object prepare(const json::object &request, const std::string &docker_default_path) {
    json::object result = policy_section(request);
    std::vector<std::string> warnings;
    result["engine_profile"] = engine_profile(result, docker_default_path, warnings);
    for (auto &w : warnings)
        result["warnings"].as_array().emplace_back(w);
    return result;
}

json::object prepare(const json::object &request) { return prepare(request, kDockerDefaultProfilePath); }

}  // namespace rustyolo::seccomp
