#include "plugins/audit-file/log_paths.hpp"

#include <rustyolo/sdk/text.hpp>

#include <pwd.h>
#include <unistd.h>

#include <stdexcept>

namespace rustyolo::audit_file {

namespace {

std::string home_dir(const GetEnv &getenv_fn) {
    if (const char *home = getenv_fn("HOME"); home && *home == '/')
        return home;
    if (const passwd *pw = ::getpwuid(::getuid()); pw && pw->pw_dir)
        return pw->pw_dir;
    throw std::runtime_error("cannot find your home directory: HOME is not set and uid " +
                             std::to_string(::getuid()) + " has no passwd entry; set HOME");
}

}  // namespace

std::string audit_directory(const GetEnv &getenv_fn) {
    if (const char *state = getenv_fn("XDG_STATE_HOME"); state && *state == '/')
        return std::string(state) + "/rustyolo/audit";
    return home_dir(getenv_fn) + "/.local/state/rustyolo/audit";
}

std::string audit_directory(const GetEnv &getenv_fn, const std::string &configured) {
    if (configured.empty())
        return audit_directory(getenv_fn);
    std::string dir = configured;
    if (configured == "~" || configured.rfind("~/", 0) == 0)
        dir = home_dir(getenv_fn) + configured.substr(1);
    if (dir.front() != '/')
        throw std::invalid_argument("audit directory " + text::quoted(configured) +
                                    " is relative; give an absolute path or one starting with ~/ "
                                    "([security] audit_dir, RUSTYOLO_AUDIT_DIR or --audit-dir)");
    return dir;
}

}  // namespace rustyolo::audit_file
