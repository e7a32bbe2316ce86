#include "entrypoint/plan_file.hpp"

#include "entrypoint/files.hpp"

#include "entrypoint/setup_error.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

namespace rustyolo::entrypoint {

namespace {

constexpr std::size_t kMaxPlanSize = 16 * 1024 * 1024;

std::string read_plan_text(const std::string &path) {
    return read_regular_file(path, kMaxPlanSize,
                             "start the sandbox with `rustyolo`, which mounts the session's Plan there");
}

void require_absolute(const std::string &what, const std::string &path) {
    if (path.empty() || path.front() != '/')
        throw std::runtime_error("plan: " + what + " \"" + path + "\" must be an absolute path");
}

}  // namespace

LoadedPlan load_plan(const std::string &path) { return load_plan_text(read_plan_text(path), path); }

LoadedPlan load_plan_text(std::string_view text, const std::string &origin) {
    boost::json::error_code ec;
    boost::json::value document = boost::json::parse(text, ec);
    if (ec)
        throw std::runtime_error(origin + ": not valid JSON: " + ec.message());
    LoadedPlan loaded{plan_from_json(document), std::move(document)};
    const Plan &plan = loaded.plan;
    // plan_from_json already refuses uid/gid 0; the agent must never be root, so check again here,
    // where it is enforced.
    if (plan.user.uid == 0 || plan.user.gid == 0)
        throw std::runtime_error("plan: /user: the agent must not run as uid or gid 0");
    require_absolute("/workdir", plan.workdir);
    require_absolute("/user/home", plan.user.home);
    return loaded;
}

}  // namespace rustyolo::entrypoint
