// Placeholders for protected paths that do not exist yet, shared by the sessions of one project.
//
// A protected path that is missing is created on the host as an empty placeholder so that it can
// be mounted read-only (the engine would otherwise create the bind target itself). When two
// sessions run on one project, the second one finds the first one's placeholders and mounts them
// as they are; if the first one removed them at its exit, the second one's mounts would detach
// and its agent could create the real file (`.git/hooks/pre-commit`, `.envrc`) on the host.
//
// So placeholders are counted per project: a registry at a place fixed per user
// (/tmp/rustyolo-<uid>/projects/<key>/, whatever XDG_RUNTIME_DIR says, so that a session from a
// desktop terminal and one from su/ssh/cron see each other), keyed by the project directory's
// device and inode (not its path, which can be spelled or renamed differently), guarded by an
// flock on its `lock` file, holds one record per live session with the placeholders it holds. A session's record is flocked by that session for its
// whole life: when the CLI dies (even by SIGKILL) the kernel releases it, and the next session on
// the project (at its start or its end) takes the dead session's placeholders over for removal.
// The last session out removes a placeholder, and only if it is still as it was created (an empty
// directory, a file with exactly its placeholder content): nothing anybody wrote is removed.
//
// A record also keeps the session's start snapshot of the project's git dirs (git_dirs.hpp): the
// end-of-session move-aside of a session whose CLI was killed is done by whoever finds its record
// dead (a DeadSessionHandler, called with the registry locked, before its placeholders go).
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include <boost/json/value.hpp>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo {

struct Placeholder {
    std::string path;  // relative to the project (the registry is the project's, however it is reached)
    bool directory = false;
    std::string content;  // of a file placeholder
};

// Called for each dead session's record that holds a git snapshot: its id and the snapshot.
using DeadSessionHandler = std::function<void(const std::string &session, const boost::json::value &git_snapshot)>;

class ProjectPlaceholders {
public:
    // Locks the project's registry under `registry_base` (uid_base_dir(); created 0700 if needed)
    // until commit().
    // Removes what dead sessions left, if no live session holds it.
    ProjectPlaceholders(const std::string &registry_base, const std::filesystem::path &project,
                        const std::string &session, DeadSessionHandler on_dead = {});
    // Releases this session's share: removes each placeholder no other live session holds.
    ~ProjectPlaceholders();
    ProjectPlaceholders(const ProjectPlaceholders &) = delete;
    ProjectPlaceholders &operator=(const ProjectPlaceholders &) = delete;

    // Makes sure `path` (absolute, inside the project) exists for this session. Returns true when it is a
    // placeholder: created now, or one that another live session created and still holds (this
    // session then holds it too). Returns false for a path that exists on its own. As root, a
    // created placeholder is given to owner_uid:owner_gid (the agent's ids: the only owner that
    // makes sense inside); nothing that already existed is ever chowned.
    bool hold(const std::filesystem::path &path, bool directory, std::string_view content, unsigned owner_uid,
              unsigned owner_gid);

    // Keeps the session's start snapshot of the git dirs in its record (before commit()).
    void set_git_snapshot(boost::json::value snapshot);

    // Ends the start-up: the project lock is released (the session's record stays, flocked).
    void commit();

    const std::vector<Placeholder> &held() const { return held_; }

private:
    void write_record();
    void release();

    std::filesystem::path project_;       // as the caller spells it (hold() takes paths under it)
    std::filesystem::path real_project_;  // without symbolic links: placeholders are removed through it
    std::filesystem::path dir_;  // the project's registry
    std::string session_;
    UniqueFd lock_;    // the registry's lock file, flocked while registry work runs
    UniqueFd record_;  // this session's record, flocked for the session's life
    std::vector<Placeholder> held_;
    std::set<std::string> live_;  // what other live sessions held at the start-up
    boost::json::value git_snapshot_;
    DeadSessionHandler on_dead_;
};

// <registry_base>/projects/<key>: the key is the project directory's st_dev and st_ino (hex), the
// same however the path is spelled. Throws when the project cannot be stat'ed.
std::string placeholder_registry_dir(const std::string &registry_base, const std::filesystem::path &project);

}  // namespace rustyolo
