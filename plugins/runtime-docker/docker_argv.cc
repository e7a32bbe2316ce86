#include "plugins/runtime-docker/docker_argv.hpp"

#include "plugins/runtime-docker/session_file.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rustyolo::docker {

namespace {

// A --mount value. Docker splits it at commas (CSV), so a path with a comma or a double quote
// cannot be expressed safely: refuse it rather than risk a mount of something else.
std::string mount_value(const std::string &source, const std::string &target, bool readonly) {
    for (const auto *path : {&source, &target})
        if (path->find_first_of(",\"\n") != std::string::npos)
            throw std::invalid_argument("path \"" + *path +
                                        "\" contains a comma, quote or newline, which docker --mount "
                                        "cannot express; rename it or mount a parent directory");
    std::string value = "type=bind,source=" + source + ",target=" + target;
    if (readonly)
        value += ",readonly";
    return value;
}

std::string sanitize_name(const std::string &name) {
    std::string out;
    for (char c : name)
        out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
    return out.empty() ? "agent" : out;
}

std::string format_cpus(double cpus) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", cpus);
    std::string s = buf;
    while (s.back() == '0')
        s.pop_back();
    if (s.back() == '.')
        s.pop_back();
    return s;
}

}  // namespace

const std::vector<std::string> &supervisor_capabilities() {
    static const std::vector<std::string> caps{"NET_ADMIN", "NET_BIND_SERVICE", "SETUID", "SETGID", "SETPCAP",
                                               "KILL"};
    return caps;
}

std::string write_engine_profile(const Plan &plan, const std::string &runtime_dir, bool overwrite) {
    if (plan.syscalls.engine_profile.is_null())
        return {};
    if (runtime_dir.empty())
        throw std::invalid_argument("runtime request: runtime_dir is required to pass the engine's seccomp profile");
    const std::string path = runtime_dir + "/" + kEngineProfileFile;
    write_session_file(path, boost::json::serialize(plan.syscalls.engine_profile) + "\n", overwrite,
                       "the engine's seccomp profile");
    return path;
}

std::string container_name(const Plan &plan) {
    return "rustyolo-" + sanitize_name(plan.agent.name) + "-" + plan.session;
}

std::vector<std::string> run_argv(const LaunchRequest &request) {
    const Plan &plan = request.plan;
    std::vector<std::string> argv{request.runtime, "run", "--rm", "--interactive"};
    if (request.interactive)
        argv.push_back("--tty");
    argv.insert(argv.end(), {"--name", container_name(plan), "--label", "org.rustyolo.session=" + plan.session,
                             "--label", "org.rustyolo.agent=" + plan.agent.name});

    // Privileges: nothing but what the supervisor needs; no privilege gain through exec.
    argv.insert(argv.end(), {"--cap-drop", "ALL"});
    for (const auto &cap : supervisor_capabilities())
        argv.insert(argv.end(), {"--cap-add", cap});
    argv.insert(argv.end(), {"--security-opt", "no-new-privileges"});
    // The image is read-only: what the session may write is the project, the volumes and the sized
    // tmpfs mounts below.
    argv.push_back("--read-only");
    // The engine's seccomp profile: its default with what the agent filter reports allowed, so
    // that those denials reach the agent filter's notifications (plugins/seccomp/engine_profile.hpp).
    if (!request.engine_profile_file.empty())
        argv.insert(argv.end(), {"--security-opt", "seccomp=" + request.engine_profile_file});
    // IPv6 off at the sysctl; the firewall closes it as well.
    argv.insert(argv.end(), {"--sysctl", "net.ipv6.conf.all.disable_ipv6=1", "--sysctl",
                             "net.ipv6.conf.default.disable_ipv6=1"});

    // Resources.
    if (plan.resources.memory_bytes) {
        std::string bytes = std::to_string(*plan.resources.memory_bytes);
        // Swap equal to memory: no extra swap, so the memory limit really bounds the session.
        argv.insert(argv.end(), {"--memory", bytes, "--memory-swap", bytes});
    }
    if (plan.resources.cpus)
        argv.insert(argv.end(), {"--cpus", format_cpus(*plan.resources.cpus)});
    if (plan.resources.pids)
        argv.insert(argv.end(), {"--pids-limit", std::to_string(*plan.resources.pids)});

    if (!plan.network.engine_network.empty())
        argv.insert(argv.end(), {"--network", plan.network.engine_network});

    // Scratch space: tmpfs mounts, each sized (the sizes count against the memory limit). The
    // project directory is the user's disk and is not bounded. Each also has at most one inode per
    // page of its size: an empty file takes no blocks but about 1 KiB of kernel memory (charged to
    // the memory limit), and the kernel's default allows millions of them.
    const auto size = [](const std::optional<std::int64_t> &bytes) {
        return bytes ? ",size=" + std::to_string(*bytes) + ",nr_inodes=" + std::to_string(scratch_inodes(*bytes))
                     : std::string();
    };
    // Home: private, owned by the agent user (no chown needed, nothing left behind).
    argv.insert(argv.end(), {"--tmpfs", plan.user.home + ":rw,nosuid,nodev,exec,mode=0700,uid=" +
                                            std::to_string(plan.user.uid) + ",gid=" +
                                            std::to_string(plan.user.gid) + size(plan.resources.home_bytes)});
    // /tmp, shared and sticky as usual (the image links /var/tmp to it).
    argv.insert(argv.end(), {"--tmpfs", std::string(kTmpContainerDir) + ":rw,nosuid,nodev,exec,mode=1777" +
                                            size(plan.resources.tmp_bytes)});
    // /dev/shm as the engine makes it (sticky, noexec), but with an inode limit, which --shm-size
    // cannot give.
    if (plan.resources.shm_bytes)
        argv.insert(argv.end(), {"--tmpfs", std::string(kShmContainerDir) + ":rw,nosuid,nodev,noexec,mode=1777" +
                                                size(plan.resources.shm_bytes)});
    // The supervisor's own files (the account databases /etc/passwd and /etc/group link to): root's.
    argv.insert(argv.end(), {"--mount", std::string("type=tmpfs,target=") + kSupervisorContainerDir +
                                            ",tmpfs-size=" + std::to_string(kSupervisorTmpfsBytes) +
                                            ",tmpfs-mode=0755"});
    // The engine's own resolv.conf is read-only too: this one names the sandbox's DNS filter.
    if (request.resolv_conf_file.empty())
        throw std::invalid_argument("runtime request: no /etc/resolv.conf for the read-only root");
    argv.insert(argv.end(), {"--mount", mount_value(request.resolv_conf_file, kResolvConfContainerPath, true)});
    if (!request.engine_resolv_conf_file.empty())
        argv.insert(argv.end(), {"--mount", mount_value(request.engine_resolv_conf_file,
                                                        kEngineResolvConfContainerPath, true)});

    for (const auto &m : plan.mounts)
        argv.insert(argv.end(), {"--mount", mount_value(m.source, m.target, m.readonly)});
    argv.insert(argv.end(), {"--mount", mount_value(request.plan_file, kPlanContainerPath, true)});
    // The session dir carries the host's sockets; connect() works on a read-only mount, and
    // read-only keeps the container from leaving files in the user's runtime dir.
    if (!request.session_dir.empty())
        argv.insert(argv.end(), {"--mount", mount_value(request.session_dir, kRuntimeContainerDir, true)});

    // Environment: names only for values taken from the host (secrets stay off the command line).
    // With a terminal, the user's TERM (docker would otherwise set xterm).
    if (request.interactive)
        argv.insert(argv.end(), {"--env", "TERM"});
    for (const auto &e : plan.env)
        argv.insert(argv.end(), {"--env", e.value ? e.name + "=" + *e.value : e.name});

    argv.insert(argv.end(), {"--workdir", plan.workdir, plan.image});
    return argv;
}

}  // namespace rustyolo::docker
