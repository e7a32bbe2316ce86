// Whose ids the agent runs with, and the idmapped clones that let it write a root-owned project
// without a chown and without running as root.
//
// The agent is never uid 0. A normal user's agent has the user's ids. Run as root, the agent takes
// the project owner's ids; when that owner is root itself, the CLI clones the project's mount tree
// (open_tree(OPEN_TREE_CLONE|AT_RECURSIVE)) and marks the clone idmapped
// (mount_setattr(MOUNT_ATTR_IDMAP)) with a user namespace whose uid_map is "0 <agent uid> 1" and
// gid_map "0 <agent gid> 1". Through such a mount a file whose on-disk owner is d shows as the id
// the namespace maps d to: on-disk 0 shows as the agent's ids, and what the agent creates (as its
// ids) is written to disk as 0. On-disk ids the map does not name (files of other users in the
// project) show as the overflow ids (65534) and are not the agent's to write. The clone is attached
// under the CLI's private runtime directory (root's, 0700) for the engine to bind from, and detached
// as soon as the container holds its own copies of the mounts.
#pragma once

#include "core/private_header.hpp"

#include "core/host/paths.hpp"

#include <rustyolo/sdk/plan.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rustyolo {

struct AgentIds {
    std::uint32_t uid = 1000, gid = 1000;  // the agent's ids, never 0
    // On-disk owner of what the agent creates in the project (and of placeholders): the agent's
    // ids, or 0:0 when the project is written through an idmapped clone.
    std::uint32_t owner_uid = 1000, owner_gid = 1000;
    bool idmap = false;  // the project is root's and rustyolo runs as root: bind it from an idmapped clone
    std::string note;    // for the user when the caller is root: which ids and why; "" otherwise
};

// The agent's ids for a caller with `caller_uid`/`caller_gid` on a project whose owner is
// `project` (its stat). Not root: the caller's ids (a gid of 0 becomes the uid). Root: the
// project owner's ids when they are not 0 (a gid of 0 becomes the uid); for a root-owned project
// SUDO_UID/SUDO_GID when set and not 0, else 1000:1000, written through an idmapped clone.
AgentIds choose_agent_ids(std::uint32_t caller_uid, std::uint32_t caller_gid, const struct stat &project,
                          const GetEnv &getenv_fn);

// A user namespace (an fd of /proc/PID/ns/user, the process gone) whose uid 0 is `uid` and gid 0
// is `gid` outside, and nothing else: the map of an idmapped mount that shows on-disk 0 as
// uid:gid. Needs CAP_SETUID/CAP_SETGID (root). Throws Error naming the failed step.
UniqueFd idmap_user_namespace(std::uint32_t uid, std::uint32_t gid);

// One idmapped clone of a directory's mount tree, attached at a mount point of its own.
class IdmappedClone {
public:
    // Clones the mount tree at `source` (recursively: mounts under it come along), checks that the
    // clone is still the directory with `identity` ("st_dev:st_ino", as the Plan records it),
    // idmaps it (on-disk 0:0 shown as uid:gid) and attaches it at `mount_point`, which is created
    // (an empty directory). `what` names the directory in errors ("the project"). Where the
    // filesystem or kernel cannot idmap, a UsageError says so and gives the alternatives.
    IdmappedClone(const std::string &source, const std::string &identity, std::string mount_point,
                  std::uint32_t uid, std::uint32_t gid, const std::string &what);
    ~IdmappedClone() { detach(); }
    IdmappedClone(const IdmappedClone &) = delete;
    IdmappedClone &operator=(const IdmappedClone &) = delete;

    const std::string &path() const { return mount_point_; }
    // Detaches the clone (umount2 MNT_DETACH: mounts that hold it, e.g. the container's, keep
    // their copies) and removes the empty mount point. Idempotent; never throws.
    void detach() noexcept;

private:
    std::string mount_point_;
    bool attached_ = false;
};

// The idmapped clones of one session: the project (when AgentIds::idmap) and the agent's
// persisted state directories (--auth-home) that are root's. Rewrites the sources of the Plan's
// mounts to bind from the clones (the project, and every protected or pinned path in it, so the
// read-only mounts show the same ids); the identities stay (an idmapped clone is the same files).
class SessionIdmaps {
public:
    SessionIdmaps() = default;
    // `dir`: a private (0700) directory of root's for this session's mount points (created, with
    // `dir`.lock beside it, locked while the session lives: see detach_abandoned_idmaps()).
    // Refuses (UsageError) a state directory owned by neither the agent nor root.
    SessionIdmaps(Plan &plan, const AgentIds &ids, const std::string &project, std::string dir);
    ~SessionIdmaps() { detach(); }
    SessionIdmaps(SessionIdmaps &&other) noexcept
        : dir_(std::exchange(other.dir_, {})), lock_(std::move(other.lock_)),
          clones_(std::exchange(other.clones_, {})) {}
    SessionIdmaps &operator=(SessionIdmaps &&other) noexcept {
        if (this != &other) {
            detach();
            dir_ = std::exchange(other.dir_, {});
            lock_ = std::move(other.lock_);
            clones_ = std::exchange(other.clones_, {});
        }
        return *this;
    }

    bool empty() const { return clones_.empty(); }
    // Detaches every clone and removes the session's mount point directory. Idempotent; never throws.
    void detach() noexcept;

private:
    void attach(Plan &plan, const AgentIds &ids, const std::string &project);

    std::string dir_;
    UniqueFd lock_;  // flock(LOCK_EX) on dir_ + ".lock" while the session lives
    std::vector<std::unique_ptr<IdmappedClone>> clones_;
};

// Detaches the clones of sessions under `base` whose CLI is gone (killed before it could detach
// them: their lock is free) and removes their directories; live sessions' clones stay. Never a
// recursive removal: each mount point is unmounted, then removed if empty. Never throws.
void detach_abandoned_idmaps(const std::string &base) noexcept;

}  // namespace rustyolo
