#include "core/host/idmap.hpp"

#include "core/error.hpp"

#include <fcntl.h>
#include <sched.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace rustyolo {

namespace {

std::string errno_text(int error) { return std::strerror(error); }

// SUDO_UID / SUDO_GID as an id that is neither 0 nor one of the kernel's special ones; 0 if not.
std::uint32_t id_from_env(const GetEnv &getenv_fn, const char *name) {
    const char *value = getenv_fn(name);
    if (!value || !*value)
        return 0;
    char *end = nullptr;
    errno = 0;
    const unsigned long id = std::strtoul(value, &end, 10);
    if (errno != 0 || *end != '\0' || id >= 0xfffffffeUL)
        return 0;
    return static_cast<std::uint32_t>(id);
}

// The raw system calls (glibc 2.36 has wrappers, older ones do not).
int sys_open_tree(int dirfd, const char *path, unsigned flags) {
    return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}
int sys_mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr) {
    return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr));
}
int sys_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned flags) {
    return static_cast<int>(::syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
}

// The filesystem's name for the refusal, from its magic number.
std::string filesystem_name(int fd) {
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0)
        return "unknown filesystem";
    static const struct {
        unsigned long magic;
        const char *name;
    } known[] = {{0x858458f6UL, "ramfs"},   {0x01021994UL, "tmpfs"},  {0xEF53UL, "ext4"},
                 {0x58465342UL, "xfs"},     {0x9123683EUL, "btrfs"},  {0x794c7630UL, "overlayfs"},
                 {0x6969UL, "nfs"},         {0x65735546UL, "fuse"},   {0xFF534D42UL, "cifs"},
                 {0x01021997UL, "9p"},      {0x2011BAB0UL, "exfat"},  {0x4d44UL, "vfat"},
                 {0x73717368UL, "squashfs"}, {0x62656572UL, "sysfs"}, {0xF2F52010UL, "f2fs"}};
    const auto magic = static_cast<unsigned long>(fs.f_type) & 0xffffffffUL;
    for (const auto &k : known)
        if (k.magic == magic)
            return k.name;
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%lx", magic);
    return std::string("filesystem type ") + hex;
}

// Writes `content` to /proc/<pid>/<file> (one write, as the kernel wants for the id maps).
void write_proc_file(pid_t pid, const char *file, std::string_view content) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
        throw Error("idmapped mount: cannot write " + path + " (\"" + std::string(content.substr(0, content.size() - 1)) +
                    "\"): " + errno_text(errno));
}

// A stopped helper process in a new user namespace: killed and reaped on every way out.
class NamespaceHolder {
public:
    NamespaceHolder() {
        int ready[2], release[2];
        if (::pipe2(ready, O_CLOEXEC) != 0)
            throw Error("idmapped mount: pipe2: " + errno_text(errno));
        ready_ = UniqueFd(ready[0]);
        UniqueFd ready_w(ready[1]);
        if (::pipe2(release, O_CLOEXEC) != 0)
            throw Error("idmapped mount: pipe2: " + errno_text(errno));
        UniqueFd release_r(release[0]);
        release_ = UniqueFd(release[1]);
        pid_ = ::fork();
        if (pid_ < 0)
            throw Error("idmapped mount: fork: " + errno_text(errno));
        if (pid_ == 0) {
            // The child: only async-signal-safe calls (the parent may have threads). It keeps no
            // copy of the release pipe's write end, or it would never see that pipe's end.
            ::close(release_.get());
            ::close(ready_.get());
            const char status = ::unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
            if (::write(ready_w.get(), &status, 1) == 1) {
                char byte;
                while (::read(release_r.get(), &byte, 1) < 0 && errno == EINTR) {
                }
            }
            ::_exit(0);
        }
        ready_w.reset();
        release_r.reset();
        char status = 0;
        ssize_t n;
        while ((n = ::read(ready_.get(), &status, 1)) < 0 && errno == EINTR) {
        }
        if (n != 1 || status != 'u')
            throw Error("idmapped mount: the helper process could not create a user namespace "
                        "(unshare(CLONE_NEWUSER) failed; user namespaces may be disabled: see "
                        "user.max_user_namespaces)");
    }
    ~NamespaceHolder() {
        release_.reset();  // the child reads EOF and exits
        if (pid_ > 0) {
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
    }
    NamespaceHolder(const NamespaceHolder &) = delete;
    NamespaceHolder &operator=(const NamespaceHolder &) = delete;

    pid_t pid() const { return pid_; }

private:
    UniqueFd ready_, release_;
    pid_t pid_ = -1;
};

std::string identity_of(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return "";
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

bool inside_or_at(const std::string &path, const std::string &dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

}  // namespace

AgentIds choose_agent_ids(std::uint32_t caller_uid, std::uint32_t caller_gid, const struct stat &project,
                          const GetEnv &getenv_fn) {
    AgentIds ids;
    if (caller_uid != 0) {
        ids.uid = caller_uid;
        ids.gid = caller_gid != 0 ? caller_gid : caller_uid;
    } else if (project.st_uid != 0) {
        ids.uid = project.st_uid;
        ids.gid = project.st_gid != 0 ? project.st_gid : project.st_uid;
        ids.note = "you run rustyolo as root; the agent runs as the project's owner, uid " + std::to_string(ids.uid) +
                   ", gid " + std::to_string(ids.gid) + " (never as root)";
    } else {
        const std::uint32_t sudo_uid = id_from_env(getenv_fn, "SUDO_UID");
        const std::uint32_t sudo_gid = id_from_env(getenv_fn, "SUDO_GID");
        ids.uid = sudo_uid != 0 ? sudo_uid : 1000;
        ids.gid = sudo_uid != 0 ? (sudo_gid != 0 ? sudo_gid : sudo_uid) : 1000;
        ids.idmap = true;
        ids.note = "you run rustyolo as root in a project owned by root; the agent runs as uid " +
                   std::to_string(ids.uid) + ", gid " + std::to_string(ids.gid) +
                   " (never as root) and writes the project through an idmapped mount, so what it "
                   "creates is root's on the host";
    }
    ids.owner_uid = ids.idmap ? 0 : ids.uid;
    ids.owner_gid = ids.idmap ? 0 : ids.gid;
    return ids;
}

UniqueFd idmap_user_namespace(std::uint32_t uid, std::uint32_t gid) {
    NamespaceHolder holder;
    // setgroups first: an unprivileged writer of gid_map needs it; denying it costs nothing here
    // (no process ever runs in this namespace).
    write_proc_file(holder.pid(), "setgroups", "deny\n");
    write_proc_file(holder.pid(), "uid_map", "0 " + std::to_string(uid) + " 1\n");
    write_proc_file(holder.pid(), "gid_map", "0 " + std::to_string(gid) + " 1\n");
    const std::string path = "/proc/" + std::to_string(holder.pid()) + "/ns/user";
    UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns)
        throw Error("idmapped mount: cannot open " + path + ": " + errno_text(errno));
    return ns;
}

IdmappedClone::IdmappedClone(const std::string &source, const std::string &identity, std::string mount_point,
                             std::uint32_t uid, std::uint32_t gid, const std::string &what)
    : mount_point_(std::move(mount_point)) {
    UniqueFd tree(sys_open_tree(AT_FDCWD, source.c_str(),
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW));
    if (!tree)
        throw Error("idmapped mount of " + what + " " + source + ": open_tree: " + errno_text(errno));
    // What was cloned is what the CLI checked (not a directory swapped in since).
    if (const std::string found = identity_of(tree.get()); identity.empty() || found != identity)
        throw Error(what + " " + source + " changed while rustyolo prepared it (it was " + identity + ", now " +
                    found + "); nothing was started");

    UniqueFd userns = idmap_user_namespace(uid, gid);
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<std::uint64_t>(userns.get());
    if (sys_mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) != 0) {
        const int error = errno;
        throw UsageError(
            what + " " + source + " is owned by root and rustyolo runs as root: the agent (never root; uid " +
            std::to_string(uid) + ") could write it only through an idmapped mount, and its " +
            filesystem_name(tree.get()) + " (or a filesystem mounted inside it, or this kernel) cannot make one "
            "(mount_setattr MOUNT_ATTR_IDMAP: " + errno_text(error) +
            "). Nothing was started and nothing was changed. Either give the directory to an ordinary user "
            "(e.g. chown -R 1000:1000 " + source + ") and run rustyolo as root again (the agent then runs as that "
            "user), or run rustyolo as that user; rustyolo never changes owners itself and never runs the agent "
            "as root");
    }
    if (::mkdir(mount_point_.c_str(), 0700) != 0)
        throw Error("idmapped mount: cannot create the mount point " + mount_point_ + ": " + errno_text(errno));
    if (sys_move_mount(tree.get(), "", AT_FDCWD, mount_point_.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        const int error = errno;
        ::rmdir(mount_point_.c_str());
        throw Error("idmapped mount of " + what + " " + source + ": move_mount to " + mount_point_ + ": " +
                    errno_text(error));
    }
    attached_ = true;
}

void IdmappedClone::detach() noexcept {
    if (attached_) {
        // Never a recursive removal here: the mount point shows the project.
        if (::umount2(mount_point_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL)
            return;  // still attached: keep the directory (rmdir would fail anyway)
        attached_ = false;
        ::rmdir(mount_point_.c_str());
    }
}

SessionIdmaps::SessionIdmaps(Plan &plan, const AgentIds &ids, const std::string &project, std::string dir)
    : dir_(std::move(dir)) {
    // The lock first, the directory then: a sweeper only looks at directories, and finds this
    // one's lock held.
    lock_ = UniqueFd(::open((dir_ + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock_ || ::flock(lock_.get(), LOCK_EX) != 0)
        throw Error("cannot lock " + dir_ + ".lock: " + errno_text(errno));
    make_private_dir(dir_);
    try {
        attach(plan, ids, project);
    } catch (...) {
        detach();
        throw;
    }
}

void SessionIdmaps::attach(Plan &plan, const AgentIds &ids, const std::string &project) {
    auto clone = [&](const PlanMount &root, const std::string &name, const std::string &what) {
        clones_.push_back(
            std::make_unique<IdmappedClone>(root.source, root.identity, dir_ + "/" + name, ids.uid, ids.gid, what));
        return clones_.back()->path();
    };
    // The project, and every mount whose source lies in it (protected and pinned paths).
    if (ids.idmap) {
        auto root = std::find_if(plan.mounts.begin(), plan.mounts.end(),
                                 [](const PlanMount &m) { return m.origin == "project"; });
        if (root == plan.mounts.end() || root->source != project)
            throw Error("idmapped mount: the Plan has no project mount of " + project);
        const std::string clone_path = clone(*root, "project", "the project");
        for (PlanMount &m : plan.mounts)
            if (m.origin != "volume" && m.origin != "auth" && inside_or_at(m.source, project))
                m.source = clone_path + m.source.substr(project.size());
    }
    // The agent's persisted state: the agent's already, root's (idmapped like the project), or refused.
    std::size_t n = 0;
    for (PlanMount &m : plan.mounts) {
        if (m.origin != "auth")
            continue;
        struct stat st {};
        if (::lstat(m.source.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw Error("the agent state directory " + m.source + " (--auth-home) is not a directory any more");
        if (st.st_uid == ids.uid)
            continue;
        if (st.st_uid != 0)
            throw UsageError("the agent state directory " + m.source + " (--auth-home) belongs to uid " +
                             std::to_string(st.st_uid) + ", but the agent runs as uid " + std::to_string(ids.uid) +
                             " (the project's owner) and could not use it; give it to uid " +
                             std::to_string(ids.uid) + " or choose another --auth-home");
        m.source = clone(m, "state-" + std::to_string(n++), "the agent state directory");
    }
}

void SessionIdmaps::detach() noexcept {
    for (auto &c : clones_)
        c->detach();
    clones_.clear();
    if (!dir_.empty() && ::rmdir(dir_.c_str()) == 0)
        ::unlink((dir_ + ".lock").c_str());
    lock_.reset();
}

void detach_abandoned_idmaps(const std::string &base) noexcept {
    DIR *listing = ::opendir(base.c_str());
    if (!listing)
        return;
    std::vector<std::string> sessions;
    while (const dirent *entry = ::readdir(listing))
        if (entry->d_type == DT_DIR && entry->d_name[0] != '.')
            sessions.emplace_back(entry->d_name);
    ::closedir(listing);
    for (const std::string &name : sessions) {
        const std::string dir = base + "/" + name;
        UniqueFd lock(::open((dir + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!lock || ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
            continue;  // a live session's
        DIR *mounts = ::opendir(dir.c_str());
        if (mounts) {
            std::vector<std::string> points;
            while (const dirent *entry = ::readdir(mounts))
                if (std::string_view(entry->d_name) != "." && std::string_view(entry->d_name) != "..")
                    points.push_back(dir + "/" + entry->d_name);
            ::closedir(mounts);
            for (const std::string &point : points) {
                ::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
                ::rmdir(point.c_str());
            }
        }
        if (::rmdir(dir.c_str()) == 0)
            ::unlink((dir + ".lock").c_str());
    }
}

}  // namespace rustyolo
