#include "entrypoint/credentials.hpp"

#include "entrypoint/setup_error.hpp"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace rustyolo::entrypoint {

namespace {

// cap_t and the strings libcap allocates, freed with cap_free.
struct CapFree {
    void operator()(void *p) const { ::cap_free(p); }
};
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

// capabilities(7) names, for messages: libcap's ("cap_chown"), upper-cased as in the manual.
std::string capability_name(cap_value_t cap) {
    std::unique_ptr<char, CapFree> name(::cap_to_name(cap));
    if (!name)
        return "capability " + std::to_string(cap);
    std::string out(name.get());
    for (char &c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Capabilities the running kernel knows (libcap probes the bounding set).
cap_value_t capability_count() { return ::cap_max_bits(); }

void empty_bounding_set(cap_value_t count) {
    for (cap_value_t cap = 0; cap < count; ++cap) {
        if (::cap_get_bound(cap) != 1)
            continue;
        if (::cap_drop_bound(cap) != 0) {
            const int error = errno;
            throw std::runtime_error(
                "cannot drop " + capability_name(cap) +
                " from the bounding set (cap_drop_bound): " + std::strerror(error) +
                (error == EPERM ? "; the supervisor needs CAP_SETPCAP for this (the runtime "
                                  "must start the container with --cap-add SETPCAP)"
                                : ""));
        }
    }
}

void clear_ambient_set() {
    // EINVAL: a kernel without ambient capabilities (< 4.3) has none to clear.
    if (::cap_reset_ambient() != 0 && errno != EINVAL)
        throw_errno("cap_reset_ambient");
}

void become(uid_t uid, gid_t gid) {
    if (::setgroups(0, nullptr) != 0)
        throw_errno("setgroups(0)");
    if (::setresgid(gid, gid, gid) != 0)
        throw_errno("setresgid(" + std::to_string(gid) + ")");
    if (::setresuid(uid, uid, uid) != 0)
        throw_errno("setresuid(" + std::to_string(uid) + ")");
}

// Leaving uid 0 already cleared permitted and effective; inheritable survives it.
void clear_process_sets() {
    CapState none(::cap_init());  // every flag of every capability clear
    if (!none)
        throw_errno("cap_init");
    if (::cap_set_proc(none.get()) != 0)
        throw_errno("cap_set_proc (inheritable, permitted, effective to none)");
}

void set_no_new_privs() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
}

// Checks the result, so that a kernel or runtime surprise cannot leave the agent privileged.
void verify(uid_t uid, gid_t gid, cap_value_t count) {
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0)
        throw_errno("getresuid/getresgid");
    if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid)
        throw std::runtime_error("verification: the process did not become uid " + std::to_string(uid) +
                                 " gid " + std::to_string(gid));
    if (::getgroups(0, nullptr) != 0)
        throw std::runtime_error("verification: supplementary groups remain");
    CapState current(::cap_get_proc());
    if (!current)
        throw_errno("cap_get_proc");
    CapState none(::cap_init());
    if (!none)
        throw_errno("cap_init");
    if (::cap_compare(current.get(), none.get()) != 0) {
        std::unique_ptr<char, CapFree> text(::cap_to_text(current.get(), nullptr));
        throw std::runtime_error("verification: capabilities remain in the process's sets (" +
                                 std::string(text ? text.get() : "?") + ")");
    }
    for (cap_value_t cap = 0; cap < count; ++cap) {
        if (::cap_get_bound(cap) != 0)
            throw std::runtime_error("verification: " + capability_name(cap) +
                                     " remains in the bounding set");
        if (::cap_get_ambient(cap) > 0)
            throw std::runtime_error("verification: " + capability_name(cap) + " remains in the ambient set");
    }
    if (::setuid(0) == 0 || ::setgid(0) == 0)
        throw std::runtime_error("verification: the process could become root again");
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        throw std::runtime_error("verification: no_new_privs is not set");
}

}  // namespace

void drop_privileges(uid_t uid, gid_t gid) {
    if (uid == 0 || gid == 0)
        throw std::runtime_error("refusing to run the agent as uid or gid 0");
    const cap_value_t count = capability_count();
    // Order matters: the bounding set can only be emptied while CAP_SETPCAP is still effective,
    // and setresuid away from root clears the effective set.
    empty_bounding_set(count);
    clear_ambient_set();
    become(uid, gid);
    clear_process_sets();
    set_no_new_privs();
    verify(uid, gid, count);
}

}  // namespace rustyolo::entrypoint
