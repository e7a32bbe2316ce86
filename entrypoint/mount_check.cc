#include "entrypoint/mount_check.hpp"

#include "entrypoint/setup_error.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <cerrno>
#include <cstring>
#include <string>

namespace rustyolo::entrypoint {

namespace fs = std::filesystem;

namespace {

// st_dev:st_ino of `path`, every component opened with O_NOFOLLOW; "" with `why` set when a
// component is missing or a symbolic link.
std::string identity_without_links(const std::string &path, std::string &why) {
    UniqueFd fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    fs::path walked = "/";
    for (const auto &part : fs::path(path).relative_path()) {
        walked /= part;
        fd = UniqueFd(::openat(fd.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) {
            why = walked.string() + ": " + std::strerror(errno);
            return "";
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0 || S_ISLNK(st.st_mode)) {
            why = walked.string() + " is a symbolic link";
            return "";
        }
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        why = path + ": " + std::strerror(errno);
        return "";
    }
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// st_dev:st_ino of `path`, links followed (paths of the image, e.g. /var/run -> /run, which the
// engine follows too).
std::string identity_of(const std::string &path, std::string &why, int &error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = errno;
        why = path + ": " + std::strerror(error);
        return "";
    }
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

bool inside(const std::string &path, const std::string &dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// Looks paths up with the agent's file-system ids (this thread only): the supervisor has no
// DAC_OVERRIDE, and what matters is what the agent can reach.
class AsAgent {
public:
    AsAgent(std::uint32_t uid, std::uint32_t gid)
        : gid_(::setfsgid(static_cast<gid_t>(gid))), uid_(::setfsuid(static_cast<uid_t>(uid))) {}
    ~AsAgent() {
        ::setfsuid(static_cast<uid_t>(uid_));
        ::setfsgid(static_cast<gid_t>(gid_));
    }
    AsAgent(const AsAgent &) = delete;
    AsAgent &operator=(const AsAgent &) = delete;

private:
    int gid_, uid_;
};

}  // namespace

void verify_mounts(const Plan &plan) {
    AsAgent as_agent(plan.user.uid, plan.user.gid);
    for (const PlanMount &m : plan.mounts) {
        if (m.identity.empty())
            continue;
        // In the project (writable by others), no link anywhere on the way, and the agent must
        // reach it; elsewhere the image's links are followed, and a target the agent cannot reach
        // is nothing it could use.
        std::string why;
        const bool in_project = inside(m.target, plan.workdir);
        int error = 0;
        const std::string found =
            in_project ? identity_without_links(m.target, why) : identity_of(m.target, why, error);
        if (!in_project && error == EACCES)
            continue;
        if (found != m.identity)
            throw std::runtime_error(
                "the mount at " + m.target + " is not the " + m.source + " that rustyolo checked (" +
                (found.empty() ? why : "identity " + found + ", checked " + m.identity) +
                "): it was replaced between the check and the mount, e.g. by a symbolic link that another "
                "session's agent made in the project; nothing was started. Look at " + m.source +
                " on the host before you run again");
    }
}

}  // namespace rustyolo::entrypoint
