#include "entrypoint/lifeline.hpp"

#include "entrypoint/audit_channel.hpp"
#include "entrypoint/setup_error.hpp"
#include "entrypoint/signals.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

namespace rustyolo::entrypoint {

UniqueFd connect_lifeline(const std::string &path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path)
        throw std::runtime_error("the session socket path " + path + " is too long");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        throw_errno("socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot connect to the rustyolo CLI's session socket " + path + ": " +
                         std::strerror(errno) +
                         "; the container must be started by rustyolo, which watches it (a command "
                         "printed by --dry-run runs without that)");
    return fd;
}

namespace {

std::mutex handler_mutex;
ControlHandler handler;
bool handler_ever_set = false;

void answer(std::string_view line) {
    control::Request request;
    try {
        request = control::parse_request(line);
    } catch (const control::FrameError &e) {
        spdlog::warn("ignored a control message from the rustyolo CLI: {}", e.what());
        return;
    }
    control::Response response;
    {
        std::lock_guard lock(handler_mutex);
        if (handler)
            response = handler(request);
        else
            response = control::refusal(request.id,
                                        handler_ever_set ? "the session is ending; no live change is possible"
                                                         : "the sandbox is still being set up; try again in a moment",
                                        false);
    }
    response.id = request.id;
    try {
        audit_send_frame(control::format(response));
    } catch (const control::FrameError &e) {
        audit_send_frame(control::format(control::refusal(request.id, e.what(), false)));
    }
}

}  // namespace

void set_control_handler(ControlHandler next) {
    std::lock_guard lock(handler_mutex);
    handler = std::move(next);
    handler_ever_set = true;
}

void watch_lifeline(UniqueFd connection) {
    std::thread([fd = std::move(connection)]() mutable {
        char buffer[4096];
        std::string partial;
        bool discarding = false;
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            for (ssize_t i = 0; i < n; ++i) {
                if (buffer[i] != '\n') {
                    if (!discarding && partial.size() < control::kMaxFrame)
                        partial += buffer[i];
                    else
                        discarding = true;  // an overlong line is dropped whole
                    continue;
                }
                if (!discarding && control::is_frame(partial))
                    answer(partial);
                partial.clear();
                discarding = false;
            }
        }
        ::kill(::getpid(), lifeline_signal());
    }).detach();
}

}  // namespace rustyolo::entrypoint
