// Step "user": the agent's passwd and group entries. The agent runs with the host user's uid/gid
// (never 0), named "agent", with HOME /home/agent: a tmpfs the runtime mounts already owned by that
// uid. Nothing is chowned, recursively or at all; the files are opened without following links.
//
// The root filesystem is read-only: the image keeps its account databases in kAccountBaseDir and
// links /etc/passwd and /etc/group to kSupervisorContainerDir (a root-owned tmpfs), where this
// step writes them, the image's entries plus the agent's.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/sdk/plan.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace rustyolo::entrypoint {

struct AgentAccount {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;   // the passwd name (an existing entry's name when the uid already had one)
    std::string home;   // always the Plan's home (/home/agent)
    std::string shell;  // /bin/bash (/bin/sh when the image has no bash)
};

// One line of /etc/passwd or /etc/group, split at ':'.
struct DbEntry {
    std::string name;
    unsigned long id = 0;  // uid (passwd) or gid (group)
};

// The first well-formed entry of an /etc/passwd or /etc/group text with that id or name
// (malformed lines are skipped).
std::optional<DbEntry> find_passwd_by_uid(std::string_view passwd, unsigned long uid);
std::optional<DbEntry> find_passwd_by_name(std::string_view passwd, std::string_view name);
std::optional<DbEntry> find_group_by_gid(std::string_view group, unsigned long gid);
std::optional<DbEntry> find_group_by_name(std::string_view group, std::string_view name);

inline constexpr const char *kAccountBaseDir = "/usr/lib/rustyolo/accounts";

struct AccountFiles {
    // The databases the entries are added to.
    std::string passwd = std::string(kSupervisorContainerDir) + "/passwd";
    std::string group = std::string(kSupervisorContainerDir) + "/group";
    // When set: the image's databases, copied to `passwd` and `group` first (which must not exist
    // yet). Empty: `passwd` and `group` exist and are added to in place.
    std::string base_passwd = std::string(kAccountBaseDir) + "/passwd";
    std::string base_group = std::string(kAccountBaseDir) + "/group";
};

// Adds what is missing (a passwd line for the uid, a group line for the gid) and returns the
// account the agent runs as. Throws std::runtime_error naming the file and the conflict.
AgentAccount ensure_agent_account(const PlanUser &user, const AccountFiles &files = {});

}  // namespace rustyolo::entrypoint
