// Keeps the project's protections intact against the other mounts of a session.
//
// The project is mounted read-write at the workdir, and the paths the host executes later
// (`.git/hooks`, `.envrc`, ...) are mounted read-only over it (plan_builder's protect_path). A
// second mount can undo that in two ways, and ProjectMounts refuses both:
//  - by its source: a read-write volume that contains the project (its parent, the home directory,
//    the project itself under another name) or that is, contains or lies inside a protected path
//    reaches the same files on the host with no read-only mount on top;
//  - by its target: a volume mounted at the workdir, above it, or at, above or inside a protected
//    path's place in the container replaces the protection there.
//
// Sources are compared by file identity (st_dev, st_ino), not by spelling: a bind-mount alias of
// the project or of one of its parents is the same directory under another path. Mount points
// below a volume's source (from /proc/self/mountinfo; the engine's bind mounts are recursive) are
// checked the same way, so a volume that holds a bind mount of the project is refused too.
//
// Some of what the host runs or trusts later lies outside the project: a linked worktree's or
// submodule checkout's git dir and its common dir (the project's `.git` is a gitfile naming them:
// git runs the checkout's hooks and reads its configuration there), and rustyolo's own config file,
// state directory (trust store, audit records) and plugin directory. A read-write volume that is,
// contains or lies inside one of these (GuardedPath) is refused as well.
#pragma once

#include "core/private_header.hpp"

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/mount_spec.hpp"

namespace rustyolo {

// A host file or directory outside the project that no read-write mount may reach.
struct GuardedPath {
    std::string path;    // canonical
    std::string label;   // what it is, before the path: "the git dir"
    std::string reason;  // after the path: " that the project uses (...): git runs its hooks there"
    // Refused read-only too: what is there is usable without writing (sockets to connect to).
    bool any_mount = false;
};

class ProjectMounts {
public:
    // `project`: the canonical host path of the project; `workdir`: where it is mounted in the
    // container; `protected_paths`: project-relative paths kept read-only ("dir/" for directories,
    // as default_protected_paths() and git_protected_paths() give them).
    // `guarded`: host paths outside the project that no read-write mount may reach either.
    ProjectMounts(std::string project, std::string workdir, const std::vector<std::string> &protected_paths,
                  std::vector<GuardedPath> guarded = {});

    // Throws UsageError naming the mount, the protected path it would expose and what to do.
    // `what` names the mount in the message, e.g. `volume "/home/me:/data"`.
    void check_source(const MountSpec &spec, std::string_view what) const;
    void check_target(const MountSpec &spec, std::string_view what) const;

    // Mount points of this process's mount namespace (/proc/self/mountinfo, unescaped). Replaced
    // in unit tests.
    using MountPoints = std::vector<std::string>;
    void set_mount_points(MountPoints points) { mount_points_ = std::move(points); }

private:
    using FileId = std::pair<dev_t, ino_t>;
    // What `relative` (a path inside the project, "" for the project itself) exposes: the first
    // protected path it is, contains or lies inside, or "" when none.
    std::string exposed_by(const std::vector<std::string> &relative) const;
    // Every protected path `relative` exposes, for a message ("a, b, c and 4 more").
    std::string exposed_list(const std::vector<std::string> &relative) const;
    // Refuses when the directory `path` with identity `id` is a parent of the project, or a known
    // project directory whose place (plus `below`) exposes a protected path.
    void check_identity(const FileId &id, const std::vector<std::string> &below, const MountSpec &spec,
                        std::string_view what, const std::string &through) const;

    std::string project_;
    std::string workdir_;
    std::vector<std::vector<std::string>> protected_;  // components of each protected path
    std::map<FileId, std::vector<std::string>> known_;  // project dirs by identity: relative components
    std::set<FileId> above_project_;                    // every directory above the project
    std::vector<GuardedPath> guarded_;
    std::map<FileId, std::size_t> guarded_ids_;         // each guarded path by identity: its index
    std::map<FileId, std::size_t> above_guarded_;       // every directory above one: the first one's index
    MountPoints mount_points_;
};

// The mount points of this process (/proc/self/mountinfo, octal escapes undone). Empty when it
// cannot be read.
std::vector<std::string> current_mount_points();

}  // namespace rustyolo
