#include "entrypoint/resource_watch.hpp"

#include "entrypoint/audit_channel.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace rustyolo::entrypoint {

namespace json = boost::json;

namespace {

constexpr auto kInterval = std::chrono::milliseconds(250);

bool exists(const std::string &path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

// The first of the candidates that exists, or "".
std::string first_existing(std::initializer_list<std::string> candidates) {
    for (const std::string &c : candidates)
        if (exists(c))
            return c;
    return {};
}

}  // namespace

std::optional<std::uint64_t> cgroup_counter(const std::string &path, const std::string &key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string name;
        std::uint64_t value = 0;
        if (words >> name >> value && name == key)
            return value;
    }
    return std::nullopt;
}

std::vector<ScratchMount> scratch_mounts(const Plan &plan) {
    std::vector<ScratchMount> mounts;
    const PlanResources &r = plan.resources;
    if (r.tmp_bytes)
        mounts.push_back({kTmpContainerDir, *r.tmp_bytes, "--tmp-size"});
    if (r.home_bytes)
        mounts.push_back({plan.user.home, *r.home_bytes, "--home-size"});
    if (r.shm_bytes)
        mounts.push_back({kShmContainerDir, *r.shm_bytes, "/dev/shm"});
    return mounts;
}

bool FullnessLatch::update(std::uint64_t blocks, std::uint64_t blocks_available, std::uint64_t files,
                           std::uint64_t files_free) {
    const bool full = blocks_available == 0 || (files > 0 && files_free == 0);
    if (full && !full_) {
        full_ = true;
        return true;
    }
    // Re-armed only well below the limit, of blocks and of inodes, so that a writer at the edge
    // (also one creating and removing an empty file) makes one record, not many.
    const bool blocks_low = (blocks - blocks_available) * 10 < blocks * 9;
    const bool inodes_low = files == 0 || (files - files_free) * 10 < files * 9;
    if (full_ && !full && blocks_low && inodes_low)
        full_ = false;
    return false;
}

ResourceWatch::ResourceWatch(const PlanResources &limits, std::vector<ScratchMount> scratch, std::string root)
    : limits_(limits), scratch_(std::move(scratch)), latches_(scratch_.size()) {
    oom_file_ = first_existing({root + "/memory.events", root + "/memory/memory.oom_control"});
    pids_file_ = first_existing({root + "/pids.events", root + "/pids/pids.events"});
    // Hits before the agent existed (none, normally) are not the agent's.
    if (!oom_file_.empty())
        oom_seen_ = cgroup_counter(oom_file_, "oom_kill").value_or(0);
    if (!pids_file_.empty())
        pids_seen_ = cgroup_counter(pids_file_, "max").value_or(0);
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, kInterval, [this] { return stopping_; }))
            poll();
    });
}

ResourceWatch::~ResourceWatch() { stop(); }

void ResourceWatch::stop() {
    if (!thread_.joinable())
        return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    poll();
}

void ResourceWatch::poll_scratch() {
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
        struct statfs st {};
        if (::statfs(scratch_[i].path.c_str(), &st) != 0)
            continue;  // gone or never there: nothing the agent can fill
        if (!latches_[i].update(st.f_blocks, st.f_bavail, st.f_files, st.f_ffree))
            continue;
        const ScratchMount &m = scratch_[i];
        json::object details{{"path", m.path},
                             {"size_bytes", m.size_bytes},
                             {"free_bytes", static_cast<std::uint64_t>(st.f_bavail) * st.f_bsize},
                             {"free_inodes", static_cast<std::uint64_t>(st.f_ffree)},
                             {"option", m.option},
                             {"rule", "tmpfs size"}};
        audit_emit("resource", "block", "tmpfs_full", std::move(details));
    }
}

void ResourceWatch::poll() {
    poll_scratch();
    if (!oom_file_.empty())
        if (auto n = cgroup_counter(oom_file_, "oom_kill"); n && *n > oom_seen_) {
            json::object details{{"count", *n}, {"new", *n - oom_seen_}, {"rule", "memory limit"}};
            details["limit_bytes"] = limits_.memory_bytes ? json::value(*limits_.memory_bytes) : json::value(nullptr);
            audit_emit("resource", "block", "oom_kill", std::move(details));
            oom_seen_ = *n;
        }
    if (!pids_file_.empty())
        if (auto n = cgroup_counter(pids_file_, "max"); n && *n > pids_seen_) {
            json::object details{{"count", *n}, {"new", *n - pids_seen_}, {"rule", "pids limit"}};
            details["limit"] = limits_.pids ? json::value(*limits_.pids) : json::value(nullptr);
            audit_emit("resource", "block", "pids_limit", std::move(details));
            pids_seen_ = *n;
        }
}

}  // namespace rustyolo::entrypoint
