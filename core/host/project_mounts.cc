#include "core/host/project_mounts.hpp"

#include "core/error.hpp"

#include <rustyolo/sdk/text.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace rustyolo {
namespace {

using text::quoted;

std::string joined(const std::vector<std::string> &parts) {
    return text::join(parts, "/");
}

std::string absolute(const std::vector<std::string> &parts) {
    return "/" + joined(parts);
}

bool starts_with(const std::vector<std::string> &path, const std::vector<std::string> &prefix) {
    return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// "same", "inside", "above" or "" for how `path` relates to `other`, by components.
std::string_view relation(const std::vector<std::string> &path, const std::vector<std::string> &other) {
    if (path == other)
        return "same";
    if (starts_with(path, other))
        return "inside";
    if (starts_with(other, path))
        return "above";
    return "";
}

// Identity of `path` without following a final symbolic link; false when it cannot be inspected.
bool identity_of(const std::string &path, std::pair<dev_t, ino_t> &id) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return false;
    id = {st.st_dev, st.st_ino};
    return true;
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const std::string_view digits = field.substr(i + 1, 3);
            if (std::all_of(digits.begin(), digits.end(), [](char c) {
                    return c >= '0' && c <= '7';
                })) {
                out += static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

}  // namespace

std::vector<std::string> current_mount_points() {
    std::vector<std::string> points;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw": field 5.
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        if (fields >> id >> parent >> device >> root >> point)
            points.push_back(unescape_mountinfo(point));
    }
    return points;
}

ProjectMounts::ProjectMounts(std::string project, std::string workdir, const std::vector<std::string> &protected_paths,
                             std::vector<GuardedPath> guarded)
    : project_(std::move(project)), workdir_(std::move(workdir)), guarded_(std::move(guarded)),
      mount_points_(current_mount_points()) {
    const std::vector<std::string> project_parts = text::path_components(project_);
    for (const auto &path : protected_paths) {
        std::vector<std::string> parts;
        for (auto &part : text::path_components(path))
            if (part != ".")
                parts.push_back(std::move(part));
        if (!parts.empty())
            protected_.push_back(std::move(parts));
    }
    // Every directory above the project, and the project itself.
    FileId id;
    for (std::size_t depth = 0; depth < project_parts.size(); ++depth)
        if (identity_of(absolute({project_parts.begin(), project_parts.begin() + depth}), id))
            above_project_.insert(id);
    if (identity_of(project_, id))
        known_[id] = {};
    for (std::size_t index = 0; index < guarded_.size(); ++index) {
        const std::vector<std::string> parts = text::path_components(guarded_[index].path);
        for (std::size_t depth = 0; depth < parts.size(); ++depth)
            if (identity_of(absolute({parts.begin(), parts.begin() + depth}), id))
                above_guarded_.emplace(id, index);
        if (identity_of(guarded_[index].path, id))
            guarded_ids_.emplace(id, index);
    }
    // The existing directories between the project and each protected path, and the path itself.
    for (const auto &parts : protected_) {
        std::vector<std::string> walked;
        for (const auto &part : parts) {
            walked.push_back(part);
            if (!identity_of(project_ + "/" + joined(walked), id))
                break;
            known_.emplace(id, walked);
        }
    }
}

std::string ProjectMounts::exposed_by(const std::vector<std::string> &relative) const {
    for (const auto &parts : protected_)
        if (!relation(relative, parts).empty())
            return joined(parts);
    return "";
}

std::string ProjectMounts::exposed_list(const std::vector<std::string> &relative) const {
    std::vector<std::string> names;
    for (const auto &parts : protected_)
        if (!relation(relative, parts).empty())
            names.push_back(joined(parts));
    if (names.size() <= 3)
        return text::join(names, ", ");
    return names[0] + ", " + names[1] + ", " + names[2] + " and " + std::to_string(names.size() - 3) + " more";
}

void ProjectMounts::check_identity(const FileId &id, const std::vector<std::string> &below, const MountSpec &spec,
                                   std::string_view what, const std::string &through) const {
    {
        // What is usable without writing (a guarded path marked any_mount) is refused read-only too.
        const auto guarded = guarded_ids_.find(id);
        const auto above = below.empty() ? above_guarded_.find(id) : above_guarded_.end();
        const bool inside = guarded != guarded_ids_.end();
        const bool hit = inside || above != above_guarded_.end();
        const GuardedPath *path = hit ? &guarded_[inside ? guarded->second : above->second] : nullptr;
        if (spec.readonly && (!path || !path->any_mount))
            return;
        if (path && path->any_mount)
            throw UsageError(std::string(what) + through + " " +
                             (!inside ? "contains " : below.empty() ? "is " : "lies inside ") + path->label + " " +
                             path->path + path->reason + ": even read-only, the agent could connect to the "
                             "sockets there. Mount a directory that does not hold it");
    }
    const std::string keep = "Mount it read-only (" + spec.source + ":" + spec.target +
                             ":ro), or mount a directory that does not hold the project";
    if (below.empty() && above_project_.count(id))
        throw UsageError(std::string(what) + " is read-write and contains the project directory " + project_ +
                         through +
                         ": through it the agent could write the project's .git/hooks, .envrc and the other "
                         "paths rustyolo keeps read-only in " + workdir_ +
                         " because the host runs them later. " + keep);
    const auto guarded = guarded_ids_.find(id);
    const auto above = below.empty() ? above_guarded_.find(id) : above_guarded_.end();
    if (guarded != guarded_ids_.end() || above != above_guarded_.end()) {
        const bool inside = guarded != guarded_ids_.end();
        const GuardedPath &path = guarded_[inside ? guarded->second : above->second];
        throw UsageError(std::string(what) + " is read-write and" + through + " " +
                         (!inside ? "contains " : below.empty() ? "is " : "lies inside ") + path.label + " " +
                         path.path + path.reason + ", and the agent could write there. Mount it read-only (" +
                         spec.source + ":" + spec.target + ":ro), or mount a directory that does not hold it");
    }
    auto found = known_.find(id);
    if (found == known_.end())
        return;
    std::vector<std::string> relative = found->second;
    relative.insert(relative.end(), below.begin(), below.end());
    const std::string exposed = exposed_by(relative);
    if (exposed.empty())
        return;
    const std::string place = relative.empty() ? "the project directory " + project_
                                               : project_ + "/" + joined(relative);
    std::string_view rel = relation(relative, text::path_components(exposed));
    const std::string how = rel == "same" ? " is " : rel == "inside" ? " lies inside " : " contains ";
    throw UsageError(std::string(what) + " is read-write and" + (through.empty() ? " is " : through + " reaches ") +
                     place + ", which" + how + (rel == "above" ? exposed_list(relative) : exposed) +
                     ": rustyolo keeps that read-only because the host runs or reads it later, and a read-write "
                     "mount of the same files would undo that. " +
                     (relative.empty() ? "The project is already at " + workdir_ + "; remove this volume"
                                       : "Mount it read-only (:ro) or choose another directory"));
}

void ProjectMounts::check_source(const MountSpec &spec, std::string_view what) const {
    if (spec.readonly && std::none_of(guarded_.begin(), guarded_.end(), [](const GuardedPath &g) { return g.any_mount; }))
        return;
    const std::vector<std::string> source = text::path_components(spec.source);
    // The source and each of its parents, deepest first: the first one that is a known project
    // directory (or a parent of the project, for the source itself) decides.
    FileId id;
    for (std::size_t depth = source.size() + 1; depth-- > 0;) {
        const std::vector<std::string> head(source.begin(), source.begin() + depth);
        if (!identity_of(absolute(head), id))
            continue;
        const std::vector<std::string> below(source.begin() + depth, source.end());
        check_identity(id, below, spec, what, "");
        if (known_.count(id) || (below.empty() && above_project_.count(id)))
            break;
    }
    // Mount points below the source: the engine binds recursively, so they are part of the volume.
    for (const auto &point : mount_points_) {
        const std::vector<std::string> parts = text::path_components(point);
        if (parts.size() <= source.size() || !starts_with(parts, source))
            continue;
        if (!identity_of(point, id))
            continue;
        check_identity(id, {}, spec, what, " (through the mount point " + point + " inside it)");
    }
}

void ProjectMounts::check_target(const MountSpec &spec, std::string_view what) const {
    const std::vector<std::string> target = text::path_components(spec.target);
    const std::vector<std::string> workdir = text::path_components(workdir_);
    if (starts_with(workdir, target))
        throw UsageError(std::string(what) + ": the container path " + quoted(spec.target) +
                         (target == workdir ? " is " : " contains ") + "the project's place " + workdir_ +
                         ", so it would replace the project and the read-only paths rustyolo keeps in it; "
                         "choose another container path such as /data");
    if (!starts_with(target, workdir))
        return;
    const std::vector<std::string> relative(target.begin() + workdir.size(), target.end());
    // The engine resolves the container path inside the container and follows the project's links
    // there: a link the agent made would lead the volume anywhere in the image (the supervisor's
    // own files included). (The entrypoint checks again, but it runs only after the mounts.)
    std::string walked = project_;
    for (const auto &part : relative) {
        walked += "/" + part;
        struct stat st {};
        if (::lstat(walked.c_str(), &st) != 0)
            break;
        if (S_ISLNK(st.st_mode))
            throw UsageError(std::string(what) + ": the container path " + quoted(spec.target) + " is no plain path in the project: " +
                             walked + " is a symbolic link, and the engine would follow it inside the "
                             "container and mount the volume wherever it leads (whoever writes the project can "
                             "point it at the sandbox's own files). Replace the link with a directory, or choose "
                             "a container path outside " + workdir_ + ", such as /data");
    }
    const std::string exposed = exposed_by(relative);
    if (exposed.empty())
        return;
    std::string_view rel = relation(relative, text::path_components(exposed));
    throw UsageError(std::string(what) + ": the container path " + quoted(spec.target) +
                     (rel == "same" ? " is " : rel == "inside" ? " lies inside " : " contains ") + workdir_ + "/" +
                     (rel == "above" ? exposed_list(relative) : exposed) + ", which rustyolo keeps read-only because the host runs or reads it later; a "
                     "volume there would replace that protection. Choose a container path outside it, such as "
                     "/data");
}

}  // namespace rustyolo
