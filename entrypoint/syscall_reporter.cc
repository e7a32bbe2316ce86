#include "entrypoint/syscall_reporter.hpp"

#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/seccomp_arch.hpp>

#include <seccomp.h>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace rustyolo::entrypoint {

namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

// More than any errno table a profile can give; the hand-over is refused beyond it.
constexpr std::size_t kMaxPayload = 4 * 1024 * 1024;
// Consecutive failed receives after which the reporter gives up (see the header: ENOSYS).
constexpr int kMaxReceiveFailures = 1000;

[[noreturn]] void fail(const std::string &what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

constexpr const char *kErrnoTable = "syscall errno table";

SyscallErrnos::Entry entry_of(const json::value &value, const std::string &path) {
    const sdk::JsonReader reader(value, kErrnoTable, path);
    SyscallErrnos::Entry entry;
    entry.error = static_cast<int>(reader.integer("errno", 0, 4095));
    entry.rule = reader.str_or("rule", "");
    return entry;
}


// The calls behind i386's (and other 32-bit ABIs') multiplexers: socketcall(SYS_*, args) as in
// <linux/net.h>, ipc(call, ...) as in <linux/ipc.h>. libseccomp applies a rule on `connect`
// to socketcall(SYS_CONNECT, ...) as well.
const char *socketcall_name(std::uint64_t call) {
    static const std::array<const char *, 21> names{
        nullptr,   "socket",  "bind",       "connect",    "listen",  "accept",  "getsockname",
        "getpeername", "socketpair", "send", "recv", "sendto", "recvfrom", "shutdown",
        "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg"};
    return call < names.size() ? names[call] : nullptr;
}

const char *ipc_name(std::uint64_t call) {
    switch (call & 0xffff) {  // the high bits carry the interface version
    case 1: return "semop";
    case 2: return "semget";
    case 3: return "semctl";
    case 4: return "semtimedop";
    case 11: return "msgsnd";
    case 12: return "msgrcv";
    case 13: return "msgget";
    case 14: return "msgctl";
    case 21: return "shmat";
    case 22: return "shmdt";
    case 23: return "shmget";
    case 24: return "shmctl";
    default: return nullptr;
    }
}

struct Resolved {
    std::string name;         // the syscall as the policy names it
    std::string multiplexer;  // "socketcall" or "ipc" when the call came through one
};

// The ABI of a call. The kernel reports x32 calls as AUDIT_ARCH_X86_64 with bit 30 set in the
// number (__X32_SYSCALL_BIT); libseccomp knows them as SCMP_ARCH_X32.
std::uint32_t abi_of(const seccomp_data &data) {
    constexpr int kX32Bit = 0x40000000;
    return data.arch == SCMP_ARCH_X86_64 && (data.nr & kX32Bit) ? SCMP_ARCH_X32 : data.arch;
}

Resolved resolve(const seccomp_data &data) {
    Resolved out;
    char *name = seccomp_syscall_resolve_num_arch(abi_of(data), data.nr);
    out.name = name ? name : "syscall-" + std::to_string(data.nr);
    std::free(name);
    const char *inner = out.name == "socketcall" ? socketcall_name(data.args[0])
                        : out.name == "ipc"      ? ipc_name(data.args[0])
                                                 : nullptr;
    if (inner) {
        out.multiplexer = out.name;
        out.name = inner;
    }
    return out;
}

// libseccomp's notification buffers, sized for this kernel. The kernel refuses (EINVAL) to
// receive into a request buffer that is not all zeros, and libseccomp 2.5.4 does not clear it.
struct NotifyBuffers {
    seccomp_notif *req = nullptr;
    seccomp_notif_resp *resp = nullptr;
    std::size_t req_size = sizeof(seccomp_notif);
    NotifyBuffers() {
        if (int rc = seccomp_notify_alloc(&req, &resp); rc != 0) {
            errno = -rc;
            fail("seccomp_notify_alloc");
        }
        seccomp_notif_sizes sizes{};
        if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0)
            req_size = std::max<std::size_t>(req_size, sizes.seccomp_notif);
    }
    seccomp_notif *clear_request() {
        std::memset(req, 0, req_size);
        return req;
    }
    ~NotifyBuffers() { seccomp_notify_free(req, resp); }
    NotifyBuffers(const NotifyBuffers &) = delete;
    NotifyBuffers &operator=(const NotifyBuffers &) = delete;
};

void send_all(int channel, const std::string &payload, int fd) {
    std::size_t sent = 0;
    bool fd_sent = false;
    while (!fd_sent || sent < payload.size()) {
        iovec iov{const_cast<char *>(payload.data() + sent), payload.size() - sent};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
        if (!fd_sent) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        const ssize_t n = ::sendmsg(channel, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("cannot hand the syscall filter's notifications to the supervisor: sendmsg");
        fd_sent = true;
        sent += static_cast<std::size_t>(n);
    }
}

}  // namespace

// --- the errno table ------------------------------------------------------------------------------

SyscallErrnos SyscallErrnos::parse(const json::value &errnos) {
    const sdk::JsonReader reader(errnos, kErrnoTable);
    SyscallErrnos out;
    if (const json::value *d = reader.find("default"))
        out.default_ = entry_of(*d, reader.at("default"));
    if (const json::value *s = reader.find("syscalls")) {
        const sdk::JsonReader syscalls(*s, kErrnoTable, reader.at("syscalls"));
        for (const auto &[name, value] : syscalls.object())
            out.syscalls_[std::string(name)] = entry_of(value, syscalls.at(name));
    }
    return out;
}

const SyscallErrnos::Entry *SyscallErrnos::find(const std::string &name) const {
    if (auto it = syscalls_.find(name); it != syscalls_.end())
        return &it->second;
    return default_ ? &*default_ : nullptr;
}

// --- the agent's side -----------------------------------------------------------------------------

void hand_over_syscall_reports(const json::value &install_result, int channel) {
    if (!install_result.is_object())
        return;  // no filter, nothing to report
    const sdk::JsonReader result(install_result, "syscall.install result");
    if (!result.find("notify"))
        return;
    const sdk::JsonReader notify = result.child("notify");
    UniqueFd listener(static_cast<int>(notify.integer("fd", 0, INT32_MAX)));
    const json::value &errnos = notify.need("errnos");
    SyscallErrnos::parse(errnos);  // refuse a table the reporter could not use
    json::object payload{{"errnos", errnos}};
    if (const json::value *silent = notify.find("silent"))
        payload["silent"] = *silent;
    send_all(channel, json::serialize(payload), listener.get());
}

// --- the supervisor's side ------------------------------------------------------------------------

SyscallReporter::SyscallReporter(UniqueFd channel, pid_t agent, Sink sink,
                                 std::chrono::milliseconds handover_timeout)
    : channel_(std::move(channel)), stop_event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), sink_(std::move(sink)) {
    if (!stop_event_)
        fail("eventfd");
    thread_ = std::thread([this, agent, handover_timeout] { run(agent, handover_timeout); });
}

SyscallReporter::~SyscallReporter() { stop(); }

void SyscallReporter::stop() {
    if (!thread_.joinable())
        return;
    const std::uint64_t one = 1;
    if (::write(stop_event_.get(), &one, sizeof one) < 0)
        spdlog::warn("syscall audit: cannot stop the reporter: {}", std::strerror(errno));
    thread_.join();
}

void SyscallReporter::run(pid_t agent, std::chrono::milliseconds handover_timeout) {
    UniqueFd listener;  // closed whatever happens: the kernel then answers ENOSYS, never leaves a call waiting
    try {
        std::string payload;
        if (!receive_handover(handover_timeout, listener, payload)) {
            if (::kill(agent, SIGKILL) != 0 && errno != ESRCH)
                spdlog::error("syscall audit: cannot end the agent's process {}: {}", agent, std::strerror(errno));
            return;
        }
        channel_.reset();
        if (!listener) {
            spdlog::debug("syscall audit: the syscall filter sends no notifications (no filter, or nothing "
                          "to report)");
            return;
        }
        const json::value table = sdk::parse_object_text(payload, "the syscall filter's hand-over");
        const sdk::JsonReader handover(table, "the syscall filter's hand-over");
        const SyscallErrnos errnos = SyscallErrnos::parse(handover.need("errnos"));
        if (const json::value *silent = handover.find("silent");
            silent && silent->is_array() && !silent->as_array().empty())
            spdlog::debug("syscall audit: denied silently (not audited): {}", json::serialize(*silent));
        serve(listener.get(), errnos);
    } catch (const std::exception &e) {
        spdlog::error("syscall audit stopped: {}; from now on the agent's denied syscalls fail with ENOSYS and "
                      "are not audited",
                      e.what());
    }
}

bool SyscallReporter::receive_handover(std::chrono::milliseconds timeout, UniqueFd &listener,
                                       std::string &payload) {
    const auto deadline = Clock::now() + timeout;
    char buffer[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            spdlog::error("the agent's process did not hand its syscall filter's notifications over within {} ms: "
                          "a syscall it made before exec waits for an answer nobody can give (is the seccomp "
                          "profile denying one of the calls the entrypoint needs?); ending it",
                          timeout.count());
            return false;
        }
        pollfd fds[2] = {{channel_.get(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            fail("poll");
        if (fds[1].revents)
            return true;  // stopped: the agent is gone
        if (ready == 0)
            continue;
        iovec iov{buffer, sizeof buffer};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)]{};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(channel_.get(), &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("receiving the syscall filter's notifications: recvmsg");
        for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (listener)
                    ::close(fd);  // only the first listener is the agent's filter
                else
                    listener.reset(fd);
            }
        }
        if (msg.msg_flags & MSG_CTRUNC)
            throw std::runtime_error("receiving the syscall filter's notifications: descriptors were truncated");
        if (n == 0) {
            if (listener && payload.empty())
                throw std::runtime_error("the syscall filter's notification fd came without its errno table");
            return true;
        }
        payload.append(buffer, static_cast<std::size_t>(n));
        if (payload.size() > kMaxPayload)
            throw std::runtime_error("the syscall filter's errno table is larger than 4 MiB");
    }
}

void SyscallReporter::serve(int listener, const SyscallErrnos &errnos) {
    NotifyBuffers buffers;
    int failures = 0;
    for (;;) {
        pollfd fds[2] = {{listener, POLLIN, 0}, {stop_event_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fail("poll on the seccomp notification fd");
        }
        if (fds[1].revents)
            return;
        if (!(fds[0].revents & POLLIN)) {
            if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
                return;  // no process uses the filter any more
            continue;
        }
        seccomp_notif *req = buffers.clear_request();
        errno = 0;
        if (seccomp_notify_receive(listener, req) != 0) {
            // Usually the caller died or was interrupted between poll and receive. (libseccomp
            // returns -ECANCELED; errno is the ioctl's.)
            if (++failures >= kMaxReceiveFailures)
                fail("seccomp_notify_receive failed " + std::to_string(failures) + " times in a row");
            continue;
        }
        failures = 0;

        // The answer first, and nothing slow before it: the caller waits.
        const Resolved call = resolve(req->data);
        const SyscallErrnos::Entry *entry = errnos.find(call.name);
        const int error = entry ? entry->error : EPERM;
        seccomp_notif_resp *resp = buffers.resp;
        resp->id = req->id;
        resp->val = 0;
        resp->error = -error;
        resp->flags = 0;  // never SECCOMP_USER_NOTIF_FLAG_CONTINUE: the call does not run
        if (seccomp_notify_id_valid(listener, req->id) != 0 || seccomp_notify_respond(listener, resp) != 0)
            continue;  // the caller is gone or was interrupted (a restarted call notifies again)

        if (!entry)
            spdlog::warn("syscall audit: no errno is known for {} ({}); answered EPERM", call.name,
                         seccomp_arch_name(abi_of(req->data)));
        json::object details{{"syscall", call.name},
                             {"nr", req->data.nr},
                             {"arch", seccomp_arch_name(abi_of(req->data))},
                             {"pid", static_cast<std::int64_t>(req->pid)},
                             {"errno", error},
                             {"rule", entry ? entry->rule : "unknown"}};
        if (!call.multiplexer.empty())
            details["via"] = call.multiplexer;
        if (spdlog::should_log(spdlog::level::debug))
            spdlog::debug("syscall audit record: {}", json::serialize(details));
        sink_(std::move(details));
    }
}

// --- the supervisor's one reporter ----------------------------------------------------------------

namespace {
std::unique_ptr<SyscallReporter> &the_reporter() {
    static std::unique_ptr<SyscallReporter> reporter;
    return reporter;
}
}  // namespace

void start_syscall_reporter(UniqueFd channel, pid_t agent, SyscallReporter::Sink sink) {
    the_reporter() = std::make_unique<SyscallReporter>(std::move(channel), agent, std::move(sink));
}

void stop_syscall_reporter() { the_reporter().reset(); }

}  // namespace rustyolo::entrypoint
