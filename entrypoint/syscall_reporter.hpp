// Syscall audit: the supervisor's end of the seccomp filter's user notifications.
//
// The syscall plugin's install (in the forked agent process, last step before exec) loads a filter
// whose errno denials are SCMP_ACT_NOTIFY, and returns {"notify": {"fd", "errnos", "silent"}}.
// The agent process hands that listener fd and the errno table to the supervisor over a socket
// pair made before the fork (hand_over_syscall_reports), closes its copy and execs the agent.
//
// The reporter thread (SyscallReporter) answers every notification at once with the errno the
// policy gives that syscall (never letting the call run), and only then emits the audit record
// {"layer": "syscall", "verdict": "block", "event": "denied", "details": {"syscall", "nr", "arch",
// "pid", "errno", "rule"}}. The agent sees exactly the errno it would see without reporting.
//
// Limits, by design of the kernel interface:
//   - if the reporter stops while the agent runs (it never does before the agent has exited),
//     the kernel answers every further denied call with ENOSYS instead of the policy's errno;
//   - a process tree may hold one notifying filter: the agent's own seccomp(NEW_LISTENER) fails
//     with EBUSY (its plain filters work as before and take precedence when they return an errno);
//   - a signal that arrives while a denied call waits for its answer (microseconds) interrupts it
//     as it would a blocking call: it is restarted (and reported again) or fails with EINTR.
#pragma once

#include "core/private_header.hpp"

#include "entrypoint/audit_channel.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <boost/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace rustyolo::entrypoint {

// The errnos the policy gives, by syscall name (the plugin's "errnos" object, see
// plugins/seccomp/notify.hpp): {"default": {"errno", "rule"} | null, "syscalls": {name: {...}}}.
class SyscallErrnos {
public:
    struct Entry {
        int error = 0;
        std::string rule;
    };
    // Throws std::runtime_error naming the malformed field.
    static SyscallErrnos parse(const boost::json::value &errnos);
    // The syscall's own entry, else the default action's; nullptr when neither exists.
    const Entry *find(const std::string &name) const;

private:
    std::optional<Entry> default_;
    std::map<std::string, Entry, std::less<>> syscalls_;
};

// In the agent's process, right after the syscall plugin's install: when `install_result` carries
// "notify", sends its fd and errno table over `channel` and closes the fd. Without "notify" it
// sends nothing. The caller closes `channel` afterwards (the supervisor then sees the end of the
// hand-over). Throws std::runtime_error: the agent must not run with a listener nobody reads.
void hand_over_syscall_reports(const boost::json::value &install_result, int channel);

class SyscallReporter {
public:
    using Sink = std::function<void(boost::json::object details)>;

    // Starts the thread: it receives the hand-over on `channel` (the supervisor's end), then
    // answers notifications until stop() or until no process uses the filter any more. When the
    // agent's process neither hands over nor closes its end within `handover_timeout` (it would be
    // stuck in a denied call), the thread logs why and kills `agent`.
    SyscallReporter(UniqueFd channel, pid_t agent, Sink sink,
                    std::chrono::milliseconds handover_timeout = std::chrono::seconds(30));
    ~SyscallReporter();  // stop()
    SyscallReporter(const SyscallReporter &) = delete;
    SyscallReporter &operator=(const SyscallReporter &) = delete;

    // Ends the thread (after the record of a notification it is answering) and closes the listener.
    void stop();

private:
    void run(pid_t agent, std::chrono::milliseconds handover_timeout);
    bool receive_handover(std::chrono::milliseconds timeout, UniqueFd &listener, std::string &payload);
    void serve(int listener, const SyscallErrnos &errnos);

    UniqueFd channel_;
    UniqueFd stop_event_;
    Sink sink_;
    std::thread thread_;
};

// The records, as docs/audit-schema.md defines them.
inline void emit_syscall_denial(boost::json::object details) {
    audit_emit("syscall", "block", "denied", std::move(details));
}

// The supervisor's one reporter (main.cc): started right after the agent, stopped after it exited.
void start_syscall_reporter(UniqueFd channel, pid_t agent, SyscallReporter::Sink sink = emit_syscall_denial);
void stop_syscall_reporter();

}  // namespace rustyolo::entrypoint
