// A volume as the user writes it ("host:container[:ro|rw]"), parsed and canonicalised so that the
// mount guard judges the path that will really be mounted.
//
// The canonical `source` is what must be handed to the runtime (never `requested`): it contains no
// symlinks, no "." or ".." components and no repeated slashes, so the guard's verdict and the bind
// mount are about the same object.
#pragma once

#include "core/private_header.hpp"

#include <string>
#include <string_view>

namespace rustyolo {

struct MountSpec {
    std::string requested;  // the spec exactly as the user wrote it
    std::string source;     // canonical absolute host path
    std::string target;     // absolute, lexically normal container path
    bool readonly = false;
    // Type of what `source` names, following symlinks: "directory", "regular", "socket", "device"
    // (character or block), "fifo", "missing" or "other".
    std::string file_type;
};

// Parses "host:container[:ro|rw]". `~` and `~/...` in the host part expand to `home`; a relative
// host path is taken relative to `cwd`. Throws UsageError naming the spec, the reason and the fix.
MountSpec parse_mount_spec(std::string_view spec, const std::string &home, const std::string &cwd);

// Canonicalises an absolute path like realpath(3), also when a trailing part does not exist: the
// longest existing prefix is resolved (symlinks followed, dangling ones by their target text) and
// the missing rest is appended component by component after lexical normalisation.
// Throws UsageError for a relative path, a symlink loop or a path that cannot be inspected.
std::string canonicalize_path(const std::string &path);

// "directory", "regular", "socket", "device", "fifo", "missing" or "other" for `path`, following
// symlinks. Throws UsageError when the path cannot be inspected (e.g. permission denied).
std::string file_type_of(const std::string &path);

}  // namespace rustyolo
