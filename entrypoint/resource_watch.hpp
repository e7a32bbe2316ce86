// Reports resource limit hits as audit records: processes the memory limit killed ("oom_kill") and
// forks the pids limit refused ("pids_limit"), read from the container's own cgroup (v2:
// memory.events, pids.events; v1: memory/memory.oom_control, pids/pids.events). A thread polls
// the counters while the agent runs; stop() takes a last reading, so a hit that ended the agent is
// reported too.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace rustyolo::entrypoint {

// The value of `key` in a flat-keyed cgroup file ("oom_kill 3\nmax 0\n"), or nullopt.
std::optional<std::uint64_t> cgroup_counter(const std::string &path, const std::string &key);

class ResourceWatch {
public:
    explicit ResourceWatch(const PlanResources &limits, std::string cgroup_root = "/sys/fs/cgroup");
    ~ResourceWatch();
    ResourceWatch(const ResourceWatch &) = delete;
    ResourceWatch &operator=(const ResourceWatch &) = delete;

    // Stops the thread after a last reading. Idempotent.
    void stop();

private:
    void poll();

    PlanResources limits_;
    std::string oom_file_, pids_file_;
    std::uint64_t oom_seen_ = 0, pids_seen_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace rustyolo::entrypoint
