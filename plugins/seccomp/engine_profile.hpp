// The profile the container engine runs the whole container under. The kernel runs every seccomp
// filter of a process and acts on the result of highest precedence, and SECCOMP_RET_ERRNO outranks
// SECCOMP_RET_USER_NOTIF: a call the engine's profile denies never reaches the agent filter's
// notification, so it would be refused without an audit record. The engine therefore gets its own
// default profile (Docker's default.json) with every syscall the agent filter reports allowed:
// for those, the agent filter decides and reports; everything else the engine denies stays denied
// by the engine (unrecorded).
#pragma once

#include "plugins/seccomp/filter.hpp"

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace rustyolo::seccomp {

// Docker's default profile as Debian ships it.
inline constexpr const char *kDockerDefaultProfilePackage = "golang-github-docker-docker-dev";
inline constexpr const char *kDockerDefaultProfilePath =
    "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json";

// The comment of the rule that engine_profile_with() appends.
inline constexpr const char *kEngineAllowComment = "rustyolo: decided and reported by the agent's own filter";

// The syscall names for which `reporting` (the filter notify.hpp derives) may send a notification:
// a rule with SCMP_ACT_NOTIFY, or a NOTIFY default action and no unconditional rule for the name.
// Names are looked for among every name libseccomp resolves on the filter's ABIs (the 32-bit
// ones included) and `candidates` (e.g. the names a base profile mentions). Sorted, unique.
std::vector<std::string> notified_syscalls(const Filter &reporting, const std::vector<std::string> &candidates);

// `base` (a Docker-format profile) with `names` allowed: the names are taken out of every rule
// whose action is not SCMP_ACT_ALLOW/SCMP_ACT_LOG (a rule left without names is dropped: the
// engine would otherwise keep the first rule it sees for a syscall, e.g. Docker's clone3 → ENOSYS),
// and {"names": names, "action": "SCMP_ACT_ALLOW", "comment": kEngineAllowComment} is appended.
// Throws std::invalid_argument when `base` has no "syscalls" array.
boost::json::value engine_profile_with(boost::json::value base, const std::vector<std::string> &names);

// The Plan's "engine_profile" for its syscall section `syscalls` ({"mode", "profile"}): Docker's
// default profile read from `docker_default_path`, with what the agent filter reports allowed;
// null for mode "none", when the filter reports nothing, or when the file is missing (then a
// warning is appended to `warnings`: the engine keeps its default, and its denials are unrecorded).
// Throws std::invalid_argument for a malformed policy.
boost::json::value engine_profile(const boost::json::object &syscalls, const std::string &docker_default_path,
                                  std::vector<std::string> &warnings);

}  // namespace rustyolo::seccomp
