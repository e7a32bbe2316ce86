#include "core/host/git_dirs.hpp"

#include "core/error.hpp"
#include "core/host/git_checkouts.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <boost/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace rustyolo {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxGitDirs = 512;
constexpr int kMaxModuleDepth = 8;  // submodule names with slashes nest their git dirs

bool lstat_of(const fs::path &path, struct stat &st) { return ::lstat(path.c_str(), &st) == 0; }

bool is_dir(const fs::path &path) {
    struct stat st {};
    return lstat_of(path, st) && S_ISDIR(st.st_mode);
}

bool present(const fs::path &path) {
    struct stat st {};
    return lstat_of(path, st);
}

std::vector<std::string> names_in_fd(int dir_fd);

// The names in a directory, sorted; none when it cannot be read.
std::vector<std::string> names_in(const fs::path &dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return fd ? names_in_fd(fd.get()) : std::vector<std::string>{};
}

std::string join(const std::string &dir, const std::string &name) { return dir + "/" + name; }

// Walks the git dirs under `.git` the way git finds them: `modules/<name>` (a name may hold
// slashes, so a directory without HEAD is a level of a name), `worktrees/<id>`.
class Walker {
public:
    explicit Walker(const fs::path &project) : project_(project) {}

    void walk() {
        if (is_dir(project_ / ".git"))
            git_dir(".git", false);
    }

    std::vector<GitDir> dirs;
    std::vector<std::string> containers;  // `modules/` (and levels of names in it), `worktrees/`

private:
    void refuse_link(const std::string &rel) {
        struct stat st {};
        if (lstat_of(project_ / rel, st) && S_ISLNK(st.st_mode))
            throw UsageError("the git metadata entry " + (project_ / rel).string() +
                             " is a symbolic link; rustyolo cannot protect the git dir it points to. Replace "
                             "the link with the directory, or move the project's git dir out of the way");
    }

    void add(const std::string &rel, bool linked) {
        if (dirs.size() >= kMaxGitDirs)
            throw UsageError("the project " + project_.string() + " has more than " + std::to_string(kMaxGitDirs) +
                             " git dirs under .git (submodules and worktrees); rustyolo protects the "
                             "configuration of each one and refuses to start with so many");
        dirs.push_back(GitDir{rel, linked});
    }

    void git_dir(const std::string &rel, bool linked) {
        add(rel, linked);
        if (linked)
            return;
        const std::string modules = join(rel, "modules");
        refuse_link(modules);
        if (is_dir(project_ / modules))
            module_level(modules, 0);
        const std::string worktrees = join(rel, "worktrees");
        refuse_link(worktrees);
        if (is_dir(project_ / worktrees)) {
            containers.push_back(worktrees);
            for (const auto &name : names_in(project_ / worktrees)) {
                const std::string wt = join(worktrees, name);
                refuse_link(wt);
                if (is_dir(project_ / wt))
                    git_dir(wt, present(project_ / wt / "commondir"));
            }
        }
    }

    void module_level(const std::string &rel, int depth) {
        containers.push_back(rel);
        for (const auto &name : names_in(project_ / rel)) {
            const std::string entry = join(rel, name);
            refuse_link(entry);
            if (!is_dir(project_ / entry))
                continue;
            if (present(project_ / entry / "HEAD"))
                git_dir(entry, false);
            else if (depth < kMaxModuleDepth)
                module_level(entry, depth + 1);
        }
    }

    const fs::path &project_;
};

// Top-level entries of a git dir that git keeps data in (or only takes as state of an operation
// that needs no code: refs, messages), so the agent may add them. Anything else that is new, e.g.
// `commondir`-like files of a later git, `rebase-merge/` (its todo list can `exec`), `sequencer/`,
// `modules/`, `worktrees/`, is moved aside.
bool allowed_new_top_level(const std::string &name) {
    static const std::set<std::string> allowed{
        "HEAD",          "ORIG_HEAD",   "FETCH_HEAD",   "MERGE_HEAD",      "MERGE_MSG",      "MERGE_MODE",
        "MERGE_RR",      "AUTO_MERGE",  "CHERRY_PICK_HEAD", "REVERT_HEAD", "COMMIT_EDITMSG", "TAG_EDITMSG",
        "SQUASH_MSG",    "NOTES_EDITMSG", "EDIT_DESCRIPTION", "index",     "packed-refs",    "objects",
        "refs",          "logs",        "description",  "info",            "shallow",        "rr-cache",
        "lfs",           "gc.pid",      "gc.log",
        // protected in every git dir (read-only inside; listed so that a missing one is no news)
        "config",        "config.worktree", "commondir", "gitdir",         "hooks",          "branches",
        "remotes"};
    if (allowed.count(name) || name.rfind("rustyolo-aside.", 0) == 0)  // what an earlier end moved aside
        return true;
    return name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0;
}

// Opens a directory of the project, refusing a symbolic link anywhere on the way. An invalid fd
// (errno set) when it cannot.
UniqueFd open_dir(const fs::path &project, const std::string &relative) {
    UniqueFd fd(::open(project.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto &part : fs::path(relative)) {
        if (!fd)
            break;
        fd = UniqueFd(::openat(fd.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    return fd;
}

// The names in an open directory, sorted.
std::vector<std::string> names_in_fd(int dir_fd) {
    std::vector<std::string> names;
    int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0)
        return names;
    DIR *d = ::fdopendir(copy);
    if (!d) {
        ::close(copy);
        return names;
    }
    while (const dirent *e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

// Renames `name` in the directory `dir_fd` to `rustyolo-aside.<session>.<n>`, the first n that is
// free (never replacing anything). The aside name does not grow with `name` (a name of NAME_MAX
// bytes is moved as well as a short one); the original name is in the report. Returns the new
// name, or an error text.
struct RenameOutcome {
    std::string to;
    std::string error;
};
RenameOutcome rename_aside(int dir_fd, const std::string &name, const std::string &session, unsigned &next) {
    for (int tries = 0; tries < 100000; ++tries) {
        std::string to = "rustyolo-aside." + session + "." + std::to_string(next++);
        if (::renameat2(dir_fd, name.c_str(), dir_fd, to.c_str(), RENAME_NOREPLACE) == 0)
            return {to, ""};
        if (errno != EEXIST)
            return {"", std::strerror(errno)};
    }
    return {"", "every aside name is taken"};
}

// Whether git takes `head` for a repository's HEAD (git 2.39 setup.c validate_headref): a symbolic
// link into `refs/`, "ref: refs/...", or an object name.
bool valid_head(const fs::path &head) {
    struct stat st {};
    if (!lstat_of(head, st))
        return false;
    if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        return fs::read_symlink(head, ec).string().rfind("refs/", 0) == 0;
    }
    if (!S_ISREG(st.st_mode))
        return false;
    UniqueFd fd(::open(head.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        return false;
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n < 4)
        return false;
    std::string text(buf, static_cast<std::size_t>(n));
    if (text.rfind("ref:", 0) == 0) {
        std::size_t i = 4;
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
            ++i;
        return text.compare(i, 5, "refs/") == 0;
    }
    return text.size() >= 40 && std::all_of(text.begin(), text.begin() + 40, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

GitKind git_kind(const fs::path &project) {
    if (valid_head(project / "HEAD"))
        return GitKind::bare;
    struct stat st {};
    if (!lstat_of(project / ".git", st))
        return GitKind::none;
    if (!S_ISDIR(st.st_mode))
        return GitKind::file;
    // Without HEAD, git does not take the directory for a repository (setup.c is_git_directory):
    // e.g. another session's empty placeholder. It stays read-only as a whole, so that it cannot
    // become one.
    return present(project / ".git" / "HEAD") ? GitKind::directory : GitKind::none;
}

namespace {

// The first line of a small regular file (no symbolic link), without its line end; "" when it is
// not one.
std::string first_line(const fs::path &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return "";
    char buffer[4096];
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n <= 0)
        return "";
    std::string line(buffer, static_cast<std::size_t>(n));
    line = line.substr(0, line.find('\n'));
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

// `value` taken against `base`, canonical, when it is an existing directory; "" otherwise.
std::string existing_dir(const fs::path &base, const std::string &value) {
    if (value.empty())
        return "";
    std::error_code ec;
    const fs::path dir = fs::canonical(fs::path(value).is_absolute() ? fs::path(value) : base / value, ec);
    return !ec && is_dir(dir) ? dir.string() : "";
}

bool same_or_below(const fs::path &path, const fs::path &dir) {
    auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
    return d == dir.end();
}

}  // namespace

std::vector<std::string> outside_git_dirs(const fs::path &project) {
    std::vector<std::string> out;
    if (git_kind(project) != GitKind::file)
        return out;
    const std::string line = first_line(project / ".git");
    const std::string prefix = "gitdir: ";
    if (line.rfind(prefix, 0) != 0)
        return out;
    const std::string git_dir = existing_dir(project, line.substr(prefix.size()));
    if (git_dir.empty())
        return out;
    const std::string common = existing_dir(git_dir, first_line(fs::path(git_dir) / "commondir"));
    for (const std::string &dir : {common, git_dir})
        if (!dir.empty() && !same_or_below(dir, project) &&
            std::find(out.begin(), out.end(), dir) == out.end())
            out.push_back(dir);
    return out;
}

std::vector<GitDir> find_git_dirs(const fs::path &project) {
    Walker w(project);
    w.walk();
    return std::move(w.dirs);
}

std::vector<GitProtected> git_protected_paths(const fs::path &project) {
    // The project's top is never to become a repository: when git finds no repository in `.git`
    // (none there, one without HEAD, or one whose HEAD the agent spoiled: `.git/HEAD` is written by
    // rename), it takes the directory itself for a bare repository if it has HEAD, objects/ and
    // refs/ (setup.c setup_git_directory_gently_1, is_git_directory). HEAD read-only (an empty
    // placeholder, which validate_headref refuses, when missing) is enough to keep it from being
    // one; objects/, refs/ and config are names a project may well use for itself.
    const GitProtected top_head{"HEAD", ""};
    const GitKind kind = git_kind(project);
    switch (kind) {
    case GitKind::bare:
        throw UsageError("the project directory " + project.string() + " is itself a git dir: its HEAD is one "
                         "git takes for a repository's, so git would read the configuration at its top, which the "
                         "agent could write. rustyolo runs agents in a work tree: run it in a checkout of the "
                         "repository (git clone, git worktree add), or rename " + (project / "HEAD").string() +
                         " if it is not a repository's");
    case GitKind::none:
    case GitKind::file: {
        std::vector<GitProtected> out{top_head, {kind == GitKind::none ? ".git/" : ".git", ""}};
        for (const auto &gitfile : checkout_gitfiles(project, {}))
            out.push_back({gitfile, ""});
        return out;
    }
    case GitKind::directory:
        break;
    }
    std::vector<GitProtected> out{top_head};
    const std::vector<GitDir> dirs = find_git_dirs(project);
    for (const auto &dir : dirs) {
        const std::string &g = dir.relative;
        // Read from the git dir itself, linked worktree or not (git's path.c: per-worktree paths).
        out.push_back({join(g, "commondir"), ".\n"});
        out.push_back({join(g, "gitdir"), ""});
        out.push_back({join(g, "config.worktree"), ""});
        if (dir.linked)
            continue;  // the rest is read from the common dir
        out.push_back({join(g, "config"), ""});
        out.push_back({join(g, "hooks/"), ""});
        out.push_back({join(g, "info/attributes"), ""});
        out.push_back({join(g, "objects/info/alternates"), ""});
        // Legacy remotes: `git fetch`/`pull` <name> (and a plain `git fetch` without a configured
        // remote: "origin") read the remote's URL from `remotes/<name>` or `branches/<name>`
        // (git 2.39 remote.c: read_remotes_file, read_branches_file).
        out.push_back({join(g, "branches/"), ""});
        out.push_back({join(g, "remotes/"), ""});
    }
    // The gitfiles of the submodule checkouts and linked worktrees inside the project, which say
    // which of these git dirs git uses there (git_checkouts.hpp).
    for (const auto &gitfile : checkout_gitfiles(project, dirs))
        out.push_back({gitfile, ""});
    return out;
}

GitSnapshot snapshot_git_dirs(const fs::path &project) {
    GitSnapshot snap;
    Walker w(project);
    w.walk();
    for (const auto &dir : w.dirs)
        snap.git_dirs.push_back(dir.relative);
    snap.containers = std::move(w.containers);
    for (const auto *dirs : {&snap.git_dirs, &snap.containers})
        for (const auto &dir : *dirs)
            for (const auto &name : names_in(project / dir))
                snap.entries.insert(join(dir, name));
    return snap;
}

namespace {

boost::json::array to_array(const auto &strings) {
    boost::json::array out;
    for (const auto &s : strings)
        out.emplace_back(s);
    return out;
}

// Project-relative, inside the project, as the walker makes them.
bool safe_relative(const std::string &rel) {
    if (rel.empty() || rel.front() == '/')
        return false;
    for (const auto &part : fs::path(rel))
        if (part == ".." || part == ".")
            return false;
    return true;
}

std::vector<std::string> from_array(const boost::json::object &o, const char *key) {
    std::vector<std::string> out;
    const auto *list = o.if_contains(key);
    if (!list || !list->is_array())
        return out;
    for (const auto &item : list->as_array())
        if (item.is_string() && safe_relative(std::string(item.as_string())))
            out.emplace_back(item.as_string());
    return out;
}

}  // namespace

boost::json::value to_json(const GitSnapshot &snapshot) {
    return boost::json::object{{"git_dirs", to_array(snapshot.git_dirs)},
                               {"containers", to_array(snapshot.containers)},
                               {"entries", to_array(snapshot.entries)}};
}

GitSnapshot git_snapshot_from_json(const boost::json::value &value) {
    GitSnapshot snap;
    if (!value.is_object())
        return snap;
    const auto &o = value.as_object();
    snap.git_dirs = from_array(o, "git_dirs");
    snap.containers = from_array(o, "containers");
    for (auto &e : from_array(o, "entries"))
        snap.entries.insert(std::move(e));
    return snap;
}

MoveAsideResult move_aside_new_git_entries(const fs::path &project, const GitSnapshot &before,
                                           const std::string &session) {
    // Only the directories that existed at the start are looked into: they are mount points for
    // the session (protected paths pin them), so they are the same directories now. Nothing the
    // agent made is walked into. Each entry is handled on its own: one that cannot be moved never
    // keeps the others in place.
    MoveAsideResult result;
    unsigned next = 1;  // aside names are numbered per session, unique in each directory
    auto failed = [&](const std::string &rel, const std::string &why) {
        result.failures.push_back({rel, why});
    };
    auto move = [&](int dir_fd, const std::string &dir, const std::string &name) {
        RenameOutcome out = rename_aside(dir_fd, name, session, next);
        if (out.error.empty())
            result.moved.push_back({join(dir, name), join(dir, out.to)});
        else
            failed(join(dir, name), out.error);
    };
    // A directory that cannot be opened any more (e.g. an unpinned `modules/` the agent replaced
    // with a symbolic link) cannot be looked into: a container is then moved aside as a whole.
    auto unopenable = [&](const std::string &dir, bool container) {
        const std::string why = std::strerror(errno);
        if (errno == ENOENT)
            return;  // gone: nothing of it is left for git to read
        const fs::path rel(dir);
        UniqueFd parent = open_dir(project, rel.parent_path().string());
        if (container && parent)
            move(parent.get(), rel.parent_path().string(), rel.filename().string());
        else
            failed(dir, "cannot open it to look for new entries: " + why);
    };
    auto check = [&](const std::string &dir, bool git_dir) {
        UniqueFd fd = open_dir(project, dir);
        if (!fd)
            return unopenable(dir, !git_dir);
        for (const auto &name : names_in_fd(fd.get())) {
            const std::string rel = join(dir, name);
            if (before.entries.count(rel) || (git_dir && allowed_new_top_level(name)))
                continue;
            move(fd.get(), dir, name);
        }
    };
    for (const auto &dir : before.git_dirs)
        check(dir, true);
    for (const auto &dir : before.containers)
        check(dir, false);
    return result;
}

}  // namespace rustyolo
