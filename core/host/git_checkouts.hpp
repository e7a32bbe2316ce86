// The `.git` files (gitfiles, "gitdir: <path>") of the project's own submodule checkouts and linked
// worktrees that lie inside the project.
//
// Why: a gitfile tells git which git dir a checkout uses. The git dirs themselves are protected
// (git_dirs.hpp), but `sub/.git` is an ordinary file of the work tree: rewritten to name a git dir
// the agent made (say under `.git/logs/`, which is allow-listed), it gives the owner's git the
// agent's configuration, and the superproject's plain `git status` runs git in every populated
// submodule. So the existing gitfiles are read-only, found without running git:
//  - each submodule git dir's `core.worktree` (in its `config`, relative to the git dir; git sets
//    it when it absorbs or clones a submodule), nested submodules included;
//  - each `path = ` of the top-level `.gitmodules`;
//  - each linked worktree's `gitdir` file (the absolute path of its `.git` file).
// Only a gitfile that exists is listed (a regular file, no symbolic link on the way). Parsing is
// the minimum: a value with an escape or a quote inside is skipped (no path is guessed).
#pragma once

#include "core/private_header.hpp"

#include "core/host/git_dirs.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rustyolo {

// Project-relative paths of the existing gitfiles, sorted, without duplicates.
std::vector<std::string> checkout_gitfiles(const std::filesystem::path &project, const std::vector<GitDir> &dirs);

// From git config text: the last value of `key` in `[section]` (no subsection), or, with
// `in_subsections`, every value of `key` in any `[section "..."]`. Names compare
// case-insensitively; values git would unescape are left out.
std::vector<std::string> git_config_values(const std::string &text, const std::string &section,
                                           const std::string &key, bool in_subsections);

}  // namespace rustyolo
