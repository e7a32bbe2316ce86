#include "entrypoint/terminal.hpp"

#include "entrypoint/diagnostics.hpp"
#include "entrypoint/signals.hpp"

#include <spdlog/spdlog.h>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

namespace rustyolo::entrypoint {

bool release_controlling_terminal() {
    if (!::isatty(STDIN_FILENO))
        return false;
    with_sighup_dropped([] {
        // ENOTTY: the terminal is not our controlling one (we were not started by runc as its
        // session leader); then there is nothing to give up.
        if (::ioctl(STDIN_FILENO, TIOCNOTTY) != 0 && errno != ENOTTY)
            spdlog::warn("terminal: cannot detach from the controlling terminal: {}", std::strerror(errno));
    });
    return true;
}

void take_controlling_terminal() {
    if (::ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0)
        report("warning", std::string("terminal: the agent cannot make stdin its controlling terminal (") +
                              std::strerror(errno) + "); it runs without job control");
}

}  // namespace rustyolo::entrypoint
