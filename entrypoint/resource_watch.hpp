// Reports resource limit hits as audit records: processes the memory limit killed ("oom_kill") and
// forks the pids limit refused ("pids_limit"), read from the container's own cgroup (v2:
// memory.events, pids.events; v1: memory/memory.oom_control, pids/pids.events), and sized tmpfs
// mounts that filled up ("tmpfs_full": writes there now fail with ENOSPC), read with statfs(2).
// A thread polls while the agent runs; stop() takes a last reading, so a hit that ended the agent
// is reported too.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rustyolo::entrypoint {

// The value of `key` in a flat-keyed cgroup file ("oom_kill 3\nmax 0\n"), or nullopt.
std::optional<std::uint64_t> cgroup_counter(const std::string &path, const std::string &key);

// A sized tmpfs the watch looks at: where, its size, and the option that sets it.
struct ScratchMount {
    std::string path;
    std::int64_t size_bytes = 0;
    std::string option;  // "--tmp-size", "--home-size", "/dev/shm" (no option)
};

// The Plan's sized tmpfs mounts: /tmp, the home, /dev/shm (those it has a size for).
std::vector<ScratchMount> scratch_mounts(const Plan &plan);

// Tells when a tmpfs becomes full: once per filling, re-armed when less than 90% is used again.
class FullnessLatch {
public:
    // From a statfs(2) reading: true when the mount has just become full (no block or no inode
    // left for an unprivileged writer).
    bool update(std::uint64_t blocks, std::uint64_t blocks_available, std::uint64_t files,
                std::uint64_t files_free);

private:
    bool full_ = false;
};

class ResourceWatch {
public:
    explicit ResourceWatch(const PlanResources &limits, std::vector<ScratchMount> scratch = {},
                           std::string cgroup_root = "/sys/fs/cgroup");
    ~ResourceWatch();
    ResourceWatch(const ResourceWatch &) = delete;
    ResourceWatch &operator=(const ResourceWatch &) = delete;

    // Stops the thread after a last reading. Idempotent.
    void stop();

private:
    void poll();
    void poll_scratch();

    PlanResources limits_;
    std::string oom_file_, pids_file_;
    std::uint64_t oom_seen_ = 0, pids_seen_ = 0;
    std::vector<ScratchMount> scratch_;
    std::vector<FullnessLatch> latches_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace rustyolo::entrypoint
