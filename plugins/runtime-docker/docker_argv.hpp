// Builds the `docker run` (or `podman run`: the same CLI) command for a Plan.
#pragma once

#include <rustyolo/sdk/plan.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::docker {

struct LaunchRequest {
    std::string runtime = "docker";   // the program: docker or podman
    Plan plan;
    std::string plan_file;            // host path of the Plan file (mounted read-only)
    std::string session_dir;          // host path of the private session dir (mounted)
    bool interactive = false;         // stdin is a terminal: allocate a TTY
    // Host path of the engine's seccomp profile (write_engine_profile); empty: the engine's default.
    std::string engine_profile_file;
    // Host paths of the read-only /etc/resolv.conf (required) and of the engine's resolvers (when
    // the Plan names none); see resolv_files.hpp.
    std::string resolv_conf_file;
    std::string engine_resolv_conf_file;
};

// The file name of the engine's seccomp profile in the session's runtime dir.
inline constexpr const char *kEngineProfileFile = "engine-seccomp.json";

// Writes plan.syscalls.engine_profile as JSON to <runtime_dir>/engine-seccomp.json (mode 0644,
// never through a symlink) and returns its path; returns "" when the Plan has none (the engine
// keeps its default). The file must not exist yet unless `overwrite` (a --dry-run's reused dir).
// Throws std::invalid_argument without a runtime dir and std::runtime_error naming the file and
// the reason when it cannot be written.
std::string write_engine_profile(const Plan &plan, const std::string &runtime_dir, bool overwrite);

// Capabilities the in-container supervisor keeps until it drops every one before exec:
// NET_ADMIN for the firewall, NET_BIND_SERVICE for the DNS filter's port 53, SETUID/SETGID to
// become the agent user, SETPCAP to empty the agent's bounding set, KILL to pass signals on to the
// agent (another uid) and end what it leaves behind. The agent itself gets none.
const std::vector<std::string> &supervisor_capabilities();

std::vector<std::string> run_argv(const LaunchRequest &request);

// The inode limit of a scratch tmpfs of `size_bytes`: one per 4 KiB page of its size (at least
// one), so that its inodes (about 1 KiB of kernel memory each) add at most a quarter to its size.
inline std::int64_t scratch_inodes(std::int64_t size_bytes) { return size_bytes / 4096 > 0 ? size_bytes / 4096 : 1; }

// The container name for a session: rustyolo-<agent>-<session>.
std::string container_name(const Plan &plan);

}  // namespace rustyolo::docker
