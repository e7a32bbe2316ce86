// The project's git directories, what in them git reads as configuration or runs, and the
// end-of-session step that moves aside what the agent added to them.
//
// Why: the host's git later runs in the project as its owner. Anything git reads as configuration
// (core.fsmonitor, core.hooksPath, aliases, filters, ...) or runs (hooks) is code the agent could
// plant. `.git` itself must stay writable at its top: git records work by writing `X.lock` and
// renaming it over `X` (index, HEAD, packed-refs). So every path git reads as configuration is
// protected one by one, also where it does not exist yet, in every git dir of the project: the
// main one, every `modules/*` (submodules, also nested and with slashes in their names) and every
// `worktrees/*`. docs/security-model.md lists the git sources this was read from.
#pragma once

#include "core/private_header.hpp"

#include <boost/json/value.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace rustyolo {

struct GitDir {
    std::string relative;  // project-relative, e.g. ".git", ".git/modules/lib/foo"
    // A linked worktree's git dir (`worktrees/<id>`, it has a `commondir`): configuration, hooks,
    // info and objects are read from the common dir, so only its per-worktree files matter.
    bool linked = false;
};

// How the project's `.git` stands.
enum class GitKind {
    none,       // no `.git`, or a `.git` directory without HEAD (no repository to git): protected as
                // a read-only directory, created empty when missing, so that no repository can appear
    file,       // a gitfile (`gitdir: ...`, a worktree or submodule checkout): read-only
    directory,  // a git dir (it has HEAD): see find_git_dirs
    bare,       // the project's top has a HEAD that git takes for a repository's (a bare repository,
                // or the git dir itself): refused, see git_protected_paths
};

GitKind git_kind(const std::filesystem::path &project);

// Every git dir under the project's `.git` directory, the main one first. Symbolic links in
// `modules/` or `worktrees/` are refused (UsageError): the directory they point to could not be
// protected. At most 512 git dirs.
std::vector<GitDir> find_git_dirs(const std::filesystem::path &project);

// One path of a git dir that is read-only for the agent. `content` is what a placeholder for it
// holds when it does not exist: empty, except `commondir`, which git refuses to read empty and
// which holds "." (the git dir itself: git behaves exactly as without it).
struct GitProtected {
    std::string relative;  // project-relative; a trailing '/' marks a directory
    std::string content;
};

// The project-relative paths to protect in the project's git metadata, in order. The first is
// always the project's own `HEAD` (so that git never takes the top for a bare repository). Throws
// UsageError for GitKind::bare.
std::vector<GitProtected> git_protected_paths(const std::filesystem::path &project);

// The git dirs outside the project that its `.git` gitfile names (a linked worktree's or a
// submodule checkout's): the common dir that the git dir's `commondir` names (relative to the git
// dir), then the git dir itself (`gitdir: <path>`, relative to the project), canonical, each only
// when it is an existing directory outside the project. Git reads the checkout's hooks and
// configuration there, so a read-write mount of them undoes the project's protections
// (project_mounts.hpp). Empty when `.git` is no gitfile or names nothing that exists.
std::vector<std::string> outside_git_dirs(const std::filesystem::path &project);

// The entries of the project's git dirs when the session starts (their top levels, and what is in
// `modules/` and `worktrees/`), to tell afterwards what the session added.
struct GitSnapshot {
    std::vector<std::string> git_dirs;    // project-relative
    std::vector<std::string> containers;  // `modules/` (and the levels of names in it), `worktrees/`
    std::set<std::string> entries;        // what was in them, project-relative
};
GitSnapshot snapshot_git_dirs(const std::filesystem::path &project);

// The snapshot as it is kept in the session's placeholder record (placeholders.hpp), so that
// whoever finds the session dead can move aside what its agent added. Reading it back keeps only
// project-relative paths that stay inside the project (nothing absolute, no "..").
boost::json::value to_json(const GitSnapshot &snapshot);
GitSnapshot git_snapshot_from_json(const boost::json::value &value);

struct MovedAside {
    std::string from, to;  // project-relative
};
struct AsideFailure {
    std::string path;  // project-relative
    std::string reason;
};
struct MoveAsideResult {
    std::vector<MovedAside> moved;
    std::vector<AsideFailure> failures;
};

// Moves aside what the session added to the git dirs that git could read by name later: a new
// top-level entry of a git dir that is not on the allow-list (docs/security-model.md), and a new
// entry under `modules/` or `worktrees/` (a git dir whose configuration the agent wrote). Each is
// renamed in its own directory to `rustyolo-aside.<session>.<n>` (n = 1, 2, ...: a name that git
// never reads and that cannot be too long, whatever the entry's name); nothing is deleted. A
// container (`modules/`, a level of names in it, `worktrees/`) that cannot be opened any more is
// moved aside as a whole. Each entry is handled on its own: what failed is in `failures`, and
// everything else was still moved.
MoveAsideResult move_aside_new_git_entries(const std::filesystem::path &project, const GitSnapshot &before,
                                           const std::string &session);

}  // namespace rustyolo
