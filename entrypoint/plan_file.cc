#include "plan_file.hpp"

#include "setup_error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

namespace rustyolo::entrypoint {

namespace {

constexpr off_t kMaxPlanSize = 16 * 1024 * 1024;

std::string read_plan_text(const std::string &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        const int error = errno;
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(error) +
                                 (error == ENOENT ? " (start the sandbox with `rustyolo`, which mounts the "
                                                    "session's Plan there)"
                                                  : ""));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw_errno("cannot stat " + path);
    if (!S_ISREG(st.st_mode))
        throw std::runtime_error(path + " is not a regular file");
    if (st.st_size > kMaxPlanSize)
        throw std::runtime_error(path + " is larger than 16 MiB; that is not a Plan");
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("cannot read " + path);
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > static_cast<std::size_t>(kMaxPlanSize))
            throw std::runtime_error(path + " is larger than 16 MiB; that is not a Plan");
    }
    return text;
}

void require_absolute(const std::string &what, const std::string &path) {
    if (path.empty() || path.front() != '/')
        throw std::runtime_error("plan: " + what + " \"" + path + "\" must be an absolute path");
}

}  // namespace

LoadedPlan load_plan(const std::string &path) {
    const std::string text = read_plan_text(path);
    boost::json::error_code ec;
    boost::json::value document = boost::json::parse(text, ec);
    if (ec)
        throw std::runtime_error(path + ": not valid JSON: " + ec.message());
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
