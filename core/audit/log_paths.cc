#include "core/audit/log_paths.hpp"

#include "core/error.hpp"
#include <rustyolo/sdk/text.hpp>

namespace rustyolo {

std::string audit_directory(const GetEnv &getenv_fn) {
    if (const char *state = getenv_fn("XDG_STATE_HOME"); state && *state == '/')
        return std::string(state) + "/rustyolo/audit";
    return home_dir(getenv_fn) + "/.local/state/rustyolo/audit";
}

std::string audit_directory(const GetEnv &getenv_fn, const std::string &configured) {
    if (configured.empty())
        return audit_directory(getenv_fn);
    std::string dir = configured == "~" || configured.rfind("~/", 0) == 0
                          ? expand_tilde(configured, home_dir(getenv_fn))
                          : configured;
    if (dir.front() != '/')
        throw UsageError("audit directory " + text::quoted(configured) +
                         " is relative; give an absolute path or one starting with ~/ "
                         "([security] audit_dir, RUSTYOLO_AUDIT_DIR or --audit-dir)");
    return dir;
}

}  // namespace rustyolo
