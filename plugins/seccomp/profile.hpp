// Host side of the syscall policy: resolves --seccomp-profile into the Plan's syscall section.
#pragma once

#include <boost/json.hpp>

#include <string>

namespace rustyolo::seccomp {

// Validates a Docker-format seccomp profile (defaultAction, syscalls[].names|name, action,
// optional args). Throws std::invalid_argument naming the JSON path and the problem.
void validate_docker_profile(const boost::json::value &profile, const std::string &origin);

// request: {"profile": "default"|"none"|<as given>, "path": absolute path for a file}
// result: {"mode": "default"|"none"|"profile", "profile": object|null,
//          "engine_profile": object|null (engine_profile.hpp), "warnings": [...]}
// `docker_default_path`: Docker's default profile, the base of "engine_profile".
boost::json::object prepare(const boost::json::object &request, const std::string &docker_default_path);
boost::json::object prepare(const boost::json::object &request);

}  // namespace rustyolo::seccomp
