#include "entrypoint/project_owner.hpp"

#include "entrypoint/setup_error.hpp"

#include <sys/stat.h>

#include <stdexcept>

namespace rustyolo::entrypoint {

void check_project_owner(const std::string &workdir, uid_t agent_uid) {
    struct stat st {};
    if (::lstat(workdir.c_str(), &st) != 0)
        throw_errno("cannot read the owner of the project " + workdir);
    if (!S_ISDIR(st.st_mode))
        throw std::runtime_error("the project " + workdir + " is not a directory in the sandbox");
    if (st.st_uid == agent_uid)
        return;
    throw std::runtime_error(
        "the project " + workdir + " is owned by uid " + std::to_string(st.st_uid) +
        " in the sandbox, not by the agent's uid " + std::to_string(agent_uid) +
        "; the agent would not work on it as its owner, so it is not started. rustyolo shows the project as "
        "the agent's when it runs as the project's owner, or as root (the agent then takes the owner's ids, "
        "or writes a root-owned project through an idmapped mount); a command pasted from --dry-run does not "
        "make that mount. Run rustyolo as the project's owner or as root");
}

}  // namespace rustyolo::entrypoint
