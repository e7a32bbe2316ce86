// Starting external programs: the one process runner of the project (header-only, C++17, Linux).
//
// A program is always started from an argv vector with fork + execve, never through a shell, so
// an argument with spaces or shell metacharacters reaches the program verbatim. argv[0] must be a
// path (it contains a '/') unless the caller asks for an explicit PATH lookup (search_path), which
// happens in the parent, before the fork, and names the PATH it searched when it finds nothing.
// Only PATH's absolute entries are searched (an empty or relative entry would be the working
// directory, often a project the sandboxed agent writes); without PATH, confstr(_CS_PATH)'s.
//
//   sdk::RunOptions options;
//   options.argv = {"/usr/sbin/iptables-save", "-t", "filter"};
//   options.timeout = std::chrono::seconds(30);
//   sdk::RunResult r = sdk::run(options);   // to completion: r.code(), r.out, r.err
//   sdk::Child c = sdk::spawn(options);     // long-running: c.pid(), c.wait(), or c.release()
//
// A long-running helper with handed-over descriptors and dropped credentials (the DNS filter):
// fds = {{3, udp}, {4, tcp}, ...}, env = {} (empty), new_session, child_setup doing the
// setgroups/setresgid/capability/setresuid system calls, no_new_privs, stdout null, then
// spawn() and release() the pid to the supervisor that reaps it.
//
// Between fork and execve the child makes async-signal-safe calls only (the parent may run other
// threads): stdio and the requested descriptors are put in place, every other descriptor closed,
// signal dispositions reset to default and the signal mask emptied, then the optional steps
// (own session, parent-death signal, the caller's child_setup, no_new_privs), then execve. A
// failure of any of these is reported to the parent over a close-on-exec pipe, so spawn() throws
// ProcessError naming the program, the step and errno instead of leaving a child that exits 127.
//
// Exit statuses have one decoder: ExitStatus (exited N -> N, killed by signal S -> 128+S).
#pragma once

#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char **environ;

namespace rustyolo::sdk {

// A program could not be started (not found, not executable, a set-up step failed) or waiting
// for it failed. The message names the program and the reason.
class ProcessError : public std::runtime_error {
public:
    explicit ProcessError(const std::string &message) : std::runtime_error(message) {}
};

// A wait status as waitpid(2) returns it.
class ExitStatus {
public:
    ExitStatus() = default;
    static ExitStatus from_wait(int status) { return ExitStatus(status); }

    int raw() const { return status_; }
    bool exited() const { return WIFEXITED(status_); }
    bool signalled() const { return WIFSIGNALED(status_); }
    int signal() const { return signalled() ? WTERMSIG(status_) : 0; }
    // The shell's convention: exited N -> N, killed by signal S -> 128+S (anything else: 1).
    int code() const {
        if (exited())
            return WEXITSTATUS(status_);
        if (signalled())
            return 128 + WTERMSIG(status_);
        return 1;
    }
    bool success() const { return exited() && WEXITSTATUS(status_) == 0; }
    // "exited with status 3", "killed by signal 9 (SIGKILL)", for messages.
    std::string describe() const {
        if (exited())
            return "exited with status " + std::to_string(WEXITSTATUS(status_));
        if (signalled()) {
            const int sig = WTERMSIG(status_);
            const char *abbrev = ::sigabbrev_np(sig);
            return "killed by signal " + std::to_string(sig) +
                   (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string()) +
                   (WCOREDUMP(status_) ? ", core dumped" : "");
        }
        return "stopped or continued (wait status " + std::to_string(status_) + ")";
    }

private:
    explicit ExitStatus(int status) : status_(status) {}
    int status_ = 0;
};

// What the child's stdin, stdout or stderr is.
enum class Stdio {
    inherit,  // ours
    null,     // /dev/null
    pipe,     // a pipe to the parent: stdin gets RunOptions::stdin_data, stdout/stderr are captured
};

struct RunOptions {
    // argv[0] is the program: a path, or a bare name when search_path is set.
    std::vector<std::string> argv;
    // Look argv[0] up in PATH (the child's environment's PATH when `env` sets one, else ours;
    // absolute entries only).
    bool search_path = false;
    // The child's environment: ours when unset, else exactly this ("NAME=value")...
    std::optional<std::vector<std::string>> env;
    // ... plus these, which replace entries of the same name.
    std::vector<std::string> extra_env;

    Stdio stdin_mode = Stdio::null;
    Stdio stdout_mode = Stdio::pipe;
    Stdio stderr_mode = Stdio::pipe;
    // Written to the child's stdin (stdin_mode pipe; run() only), then stdin is closed. A child
    // that exits without reading it all is no error.
    std::string stdin_data;
    // run(): at most this many bytes of each captured stream are kept; the rest is read and
    // dropped (so the child never blocks on a full pipe) and RunResult says it was truncated.
    std::size_t capture_limit = 1 << 20;
    // run(): the child (and, with new_session, its session's process group) gets SIGKILL when it
    // has not exited after this long.
    std::optional<std::chrono::milliseconds> timeout;

    // Descriptors handed to the child: {child's number, parent's descriptor}. The child's number
    // must be >= 3; the parent's descriptor stays the caller's.
    std::vector<std::pair<int, int>> fds;
    // setsid(): a terminal's signals (Ctrl-C) meant for the caller's group never reach the child.
    bool new_session = false;
    // prctl(PR_SET_PDEATHSIG): the signal the child gets when the parent's thread that started it
    // dies (0: none). The child exits at once if the parent is already gone.
    int parent_death_signal = 0;
    // Called in the child after the steps above and before no_new_privs and execve: dropping
    // credentials, for example. Async-signal-safe calls only (no allocation, no locks): the parent
    // may have other threads. Returns nullptr, or on failure the name of what failed (static
    // storage) with errno set; spawn() then throws with that name and errno.
    std::function<const char *()> child_setup;
    bool no_new_privs = false;
};

struct RunResult {
    ExitStatus status;
    std::string out;  // captured stdout (Stdio::pipe)
    std::string err;  // captured stderr (Stdio::pipe)
    bool out_truncated = false;
    bool err_truncated = false;
    bool timed_out = false;  // killed because RunOptions::timeout passed
    int code() const { return status.code(); }
};

// A started child. The owner waits for it; a Child destroyed while its process is still owned
// kills (SIGKILL) and reaps it. release() hands the pid over to a caller that reaps it itself.
class Child {
public:
    Child() = default;
    Child(Child &&other) noexcept
        : stdin_pipe(std::move(other.stdin_pipe)), stdout_pipe(std::move(other.stdout_pipe)),
          stderr_pipe(std::move(other.stderr_pipe)), pid_(std::exchange(other.pid_, -1)),
          own_group_(other.own_group_), program_(std::move(other.program_)) {}
    Child &operator=(Child &&other) noexcept {
        if (this != &other) {
            kill_and_reap();
            stdin_pipe = std::move(other.stdin_pipe);
            stdout_pipe = std::move(other.stdout_pipe);
            stderr_pipe = std::move(other.stderr_pipe);
            pid_ = std::exchange(other.pid_, -1);
            own_group_ = other.own_group_;
            program_ = std::move(other.program_);
        }
        return *this;
    }
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child() { kill_and_reap(); }

    pid_t pid() const { return pid_; }
    const std::string &program() const { return program_; }

    // The parent's ends of the Stdio::pipe streams (empty otherwise), close-on-exec.
    UniqueFd stdin_pipe;
    UniqueFd stdout_pipe;
    UniqueFd stderr_pipe;

    // Blocks until the child exits; the process is no longer owned afterwards.
    ExitStatus wait() {
        if (pid_ <= 0)
            throw ProcessError("internal error: waiting for " + program_ + ", which is not running");
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0) {
            if (errno != EINTR) {
                const int error = errno;
                pid_ = -1;
                throw ProcessError("waiting for " + program_ + ": waitpid: " + std::strerror(error));
            }
        }
        pid_ = -1;
        return ExitStatus::from_wait(status);
    }

    // The status when the child has exited, nothing while it runs.
    std::optional<ExitStatus> try_wait() {
        if (pid_ <= 0)
            throw ProcessError("internal error: waiting for " + program_ + ", which is not running");
        int status = 0;
        pid_t r = 0;
        do {
            r = ::waitpid(pid_, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == 0)
            return std::nullopt;
        if (r < 0) {
            const int error = errno;
            pid_ = -1;
            throw ProcessError("waiting for " + program_ + ": waitpid: " + std::strerror(error));
        }
        pid_ = -1;
        return ExitStatus::from_wait(status);
    }

    // Sends `sig` to the child, and to its process group when it has its own session.
    void kill(int sig) const {
        if (pid_ <= 0)
            return;
        if (own_group_)
            ::kill(-pid_, sig);
        ::kill(pid_, sig);
    }

    // Gives up ownership: the caller reaps the pid.
    pid_t release() { return std::exchange(pid_, -1); }

private:
    friend Child spawn(const RunOptions &options);

    void kill_and_reap() {
        if (pid_ <= 0)
            return;
        kill(SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    pid_t pid_ = -1;
    bool own_group_ = false;
    std::string program_;
};

namespace process_detail {

inline std::string env_name(const std::string &entry) { return entry.substr(0, entry.find('=')); }

inline std::vector<std::string> child_environment(const RunOptions &options) {
    std::vector<std::string> env;
    if (options.env) {
        env = *options.env;
    } else {
        for (char **e = environ; e && *e; ++e)
            env.emplace_back(*e);
    }
    if (!options.extra_env.empty()) {
        env.erase(std::remove_if(env.begin(), env.end(),
                                 [&](const std::string &entry) {
                                     return std::any_of(options.extra_env.begin(), options.extra_env.end(),
                                                        [&](const std::string &x) {
                                                            return env_name(x) == env_name(entry);
                                                        });
                                 }),
                  env.end());
        env.insert(env.end(), options.extra_env.begin(), options.extra_env.end());
    }
    return env;
}

inline bool is_executable_file(const std::string &path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// argv[0] as execve gets it.
inline std::string resolve_program(const RunOptions &options, const std::vector<std::string> &env) {
    const std::string &name = options.argv.front();
    if (name.find('/') != std::string::npos)
        return name;
    if (!options.search_path)
        throw ProcessError("cannot start \"" + name +
                           "\": it is not a path and no PATH lookup was asked for; give its absolute path");
    std::string path;
    bool found_path = false;
    for (const std::string &entry : env)
        if (entry.compare(0, 5, "PATH=") == 0) {
            path = entry.substr(5);
            found_path = true;
        }
    if (!found_path && !options.env) {
        const char *ours = ::getenv("PATH");
        found_path = ours != nullptr;
        path = ours ? ours : "";
    }
    if (!found_path) {
        // No PATH at all: the C library's default search path (as execvp), never the directory
        // we run in.
        char buffer[256] = {};
        const std::size_t size = ::confstr(_CS_PATH, buffer, sizeof buffer);
        path = size > 0 && size <= sizeof buffer ? buffer : "/bin:/usr/bin";
    }
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = path.find(':', start);
        const std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        // An empty or relative entry names the working directory (often a project the sandboxed
        // agent can write): it is skipped, so a bare name never runs a file from there.
        const std::string candidate = dir + "/" + name;
        if (!dir.empty() && dir.front() == '/' && is_executable_file(candidate))
            return candidate;
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    throw ProcessError("cannot start \"" + name + "\": not found in PATH (" + path +
                       "; empty and relative entries are not searched); is it installed?");
}

inline std::vector<char *> c_strings(std::vector<std::string> &strings) {
    std::vector<char *> out;
    out.reserve(strings.size() + 1);
    for (std::string &s : strings)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

[[noreturn]] inline void throw_errno(const std::string &what) {
    throw ProcessError(what + ": " + std::strerror(errno));
}

// A close-on-exec duplicate at or above `lowest`.
inline UniqueFd dup_at_least(int fd, int lowest, const std::string &what) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, lowest);
    if (copy < 0)
        throw_errno("cannot start a program: duplicating " + what);
    return UniqueFd(copy);
}

struct Pipe {
    UniqueFd read, write;
};

inline Pipe make_pipe(const std::string &what) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw_errno("cannot start a program: " + what + " pipe");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child's failure report: the step's name (at most 95 bytes) and errno.
struct Report {
    int error = 0;
    char step[96] = {};
};

// In the child: report, then exit 127. Async-signal-safe.
[[noreturn]] inline void child_fail(int report_fd, const char *step) {
    Report report;
    report.error = errno;
    std::size_t i = 0;
    for (; step && step[i] && i + 1 < sizeof report.step; ++i)
        report.step[i] = step[i];
    report.step[i] = '\0';
    [[maybe_unused]] ssize_t n = ::write(report_fd, &report, sizeof report);
    ::_exit(127);
}

}  // namespace process_detail

// Starts the program. Returns once execve succeeded; throws ProcessError when it could not be
// started (the message names the program, the step and the reason).
inline Child spawn(const RunOptions &options) {
    using namespace process_detail;
    if (options.argv.empty() || options.argv.front().empty())
        throw ProcessError("internal error: starting a program with an empty argv");
    for (const auto &[target, source] : options.fds)
        if (target < 3 || source < 0)
            throw ProcessError("internal error: starting " + options.argv.front() + ": descriptor " +
                               std::to_string(source) + " cannot become the child's " +
                               std::to_string(target) + " (the child's numbers start at 3)");

    std::vector<std::string> env = child_environment(options);
    std::vector<std::string> args = options.argv;
    args.front() = resolve_program(options, env);
    const std::string program = args.front();

    // Every descriptor the child gets is prepared before fork, duplicated above the highest
    // number the child uses, so that no dup2 in the child overwrites a source it still needs.
    int highest = 2;
    for (const auto &entry : options.fds)
        highest = std::max(highest, entry.first);
    const int report_number = highest + 1;
    const int lowest_source = highest + 2;

    Child child;
    child.program_ = program;
    UniqueFd devnull;
    if (options.stdin_mode == Stdio::null || options.stdout_mode == Stdio::null ||
        options.stderr_mode == Stdio::null) {
        devnull.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!devnull)
            throw_errno("cannot start " + program + ": opening /dev/null");
    }
    // Sources for the child's 0, 1, 2 (-1: inherit ours).
    UniqueFd stdio_source[3];
    const Stdio modes[3] = {options.stdin_mode, options.stdout_mode, options.stderr_mode};
    UniqueFd *parent_end[3] = {&child.stdin_pipe, &child.stdout_pipe, &child.stderr_pipe};
    for (int i = 0; i < 3; ++i) {
        if (modes[i] == Stdio::null) {
            stdio_source[i] = dup_at_least(devnull.get(), lowest_source, "/dev/null");
        } else if (modes[i] == Stdio::pipe) {
            Pipe p = make_pipe(i == 0 ? "stdin" : i == 1 ? "stdout" : "stderr");
            stdio_source[i] = dup_at_least(i == 0 ? p.read.get() : p.write.get(), lowest_source, "a pipe");
            *parent_end[i] = std::move(i == 0 ? p.write : p.read);
        }
    }
    std::vector<UniqueFd> fd_sources;
    for (const auto &entry : options.fds)
        fd_sources.push_back(dup_at_least(entry.second, lowest_source,
                                          "descriptor " + std::to_string(entry.second)));
    std::vector<std::pair<int, int>> fd_plan;  // {child's number, source} for the child
    for (std::size_t i = 0; i < options.fds.size(); ++i)
        fd_plan.emplace_back(options.fds[i].first, fd_sources[i].get());
    Pipe report = make_pipe("start-up report");
    UniqueFd report_source = dup_at_least(report.write.get(), lowest_source, "the start-up report pipe");
    report.write.reset();

    std::vector<char *> c_args = c_strings(args);
    std::vector<char *> c_env = c_strings(env);
    long open_max = ::sysconf(_SC_OPEN_MAX);
    if (open_max < 0 || open_max > 65536)
        open_max = 65536;
    const int src_report = report_source.get();
    const int src_stdio[3] = {stdio_source[0].get(), stdio_source[1].get(), stdio_source[2].get()};
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("cannot start " + program + ": fork");
    if (pid == 0) {
        // The child: async-signal-safe calls only from here on.
        if (::dup2(src_report, report_number) < 0 || ::fcntl(report_number, F_SETFD, FD_CLOEXEC) < 0)
            child_fail(src_report, "arranging its file descriptors");
        const int rep = report_number;
        for (int i = 0; i < 3; ++i)
            if (src_stdio[i] >= 0 && ::dup2(src_stdio[i], i) < 0)
                child_fail(rep, "arranging its file descriptors");
        for (const auto &[target, source] : fd_plan)
            if (::dup2(source, target) < 0)
                child_fail(rep, "arranging its file descriptors");
        for (int fd = 3; fd < report_number; ++fd) {
            bool wanted = false;
            for (const auto &entry : fd_plan)
                wanted = wanted || entry.first == fd;
            if (!wanted)
                ::close(fd);
        }
        bool closed = false;
#ifdef SYS_close_range
        closed = ::syscall(SYS_close_range, static_cast<unsigned>(report_number + 1), ~0u, 0u) == 0;
#endif
        if (!closed)
            for (long fd = report_number + 1; fd < open_max; ++fd)
                ::close(static_cast<int>(fd));
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig)
            if (sig != SIGKILL && sig != SIGSTOP)
                ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for the C library's own
        sigset_t none;
        sigemptyset(&none);
        if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
            child_fail(rep, "resetting the signal mask");
        if (options.new_session && ::setsid() < 0)
            child_fail(rep, "setsid");
        if (options.parent_death_signal != 0) {
            if (::prctl(PR_SET_PDEATHSIG, options.parent_death_signal, 0, 0, 0) != 0)
                child_fail(rep, "setting the parent-death signal");
            if (::getppid() != parent)
                ::_exit(128 + options.parent_death_signal);
        }
        if (options.child_setup)
            if (const char *failed = options.child_setup())
                child_fail(rep, failed);
        if (options.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            child_fail(rep, "setting no_new_privs");
        ::execve(c_args[0], c_args.data(), c_env.data());
        child_fail(rep, "execve");
    }

    child.pid_ = pid;
    child.own_group_ = options.new_session;
    // The child's copies go; EOF on the report pipe means execve succeeded.
    report_source.reset();
    for (auto &fd : stdio_source)
        fd.reset();
    fd_sources.clear();
    Report failure;
    ssize_t n = 0;
    do {
        n = ::read(report.read.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n != 0) {
        child.kill_and_reap();
        if (n == static_cast<ssize_t>(sizeof failure)) {
            failure.step[sizeof failure.step - 1] = '\0';
            std::string message = "cannot start " + program + ": " + failure.step + ": " +
                                  std::strerror(failure.error);
            if (failure.error == ENOENT && std::string(failure.step) == "execve")
                message += " (is it installed?)";
            throw ProcessError(message);
        }
        throw ProcessError("cannot start " + program + ": no report from the child");
    }
    return child;
}

// Starts the program, writes stdin_data, captures stdout and stderr (up to capture_limit each)
// and waits for it, killing it when `timeout` passes. Throws ProcessError when it cannot be
// started; its exit status, whatever it is, is the result.
inline RunResult run(const RunOptions &options) {
    using Clock = std::chrono::steady_clock;
    Child child = spawn(options);
    RunResult result;
    const bool has_deadline = options.timeout.has_value();
    const Clock::time_point deadline = Clock::now() + options.timeout.value_or(std::chrono::milliseconds(0));

    std::size_t written = 0;
    if (child.stdin_pipe) {
        if (options.stdin_data.empty()) {
            child.stdin_pipe.reset();
        } else {
            const int flags = ::fcntl(child.stdin_pipe.get(), F_GETFL);
            ::fcntl(child.stdin_pipe.get(), F_SETFL, flags | O_NONBLOCK);
        }
    }
    char buffer[16384];
    auto drain = [&](UniqueFd &fd, std::string &sink, bool &truncated) {
        const ssize_t r = ::read(fd.get(), buffer, sizeof buffer);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        if (r <= 0) {
            fd.reset();
            return;
        }
        const std::size_t got = static_cast<std::size_t>(r);
        const std::size_t room = options.capture_limit > sink.size() ? options.capture_limit - sink.size() : 0;
        sink.append(buffer, std::min(got, room));
        if (got > room)
            truncated = true;
    };
    // Writing to a pipe whose reader is gone raises SIGPIPE: blocked here, and a pending one that
    // this write caused is taken from the queue, so the caller never dies of it.
    auto feed = [&] {
        sigset_t pipe_set, old_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
        sigset_t pending;
        sigpending(&pending);
        const bool was_pending = sigismember(&pending, SIGPIPE);
        const ssize_t w = ::write(child.stdin_pipe.get(), options.stdin_data.data() + written,
                                  options.stdin_data.size() - written);
        const int error = errno;
        if (w < 0 && error == EPIPE && !was_pending) {
            const timespec zero{0, 0};
            ::sigtimedwait(&pipe_set, nullptr, &zero);
        }
        ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
        if (w > 0)
            written += static_cast<std::size_t>(w);
        if ((w < 0 && error != EINTR && error != EAGAIN) || written == options.stdin_data.size())
            child.stdin_pipe.reset();
    };

    while (child.stdin_pipe || child.stdout_pipe || child.stderr_pipe) {
        pollfd fds[3];
        UniqueFd *which[3];
        nfds_t count = 0;
        if (child.stdin_pipe) {
            fds[count] = {child.stdin_pipe.get(), POLLOUT, 0};
            which[count++] = &child.stdin_pipe;
        }
        if (child.stdout_pipe) {
            fds[count] = {child.stdout_pipe.get(), POLLIN, 0};
            which[count++] = &child.stdout_pipe;
        }
        if (child.stderr_pipe) {
            fds[count] = {child.stderr_pipe.get(), POLLIN, 0};
            which[count++] = &child.stderr_pipe;
        }
        int wait_ms = -1;
        if (has_deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                result.timed_out = true;
                break;
            }
            wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 60000));
        }
        const int ready = ::poll(fds, count, wait_ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            throw ProcessError("running " + child.program() + ": poll: " + std::strerror(errno));
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (!fds[i].revents)
                continue;
            if (which[i] == &child.stdin_pipe)
                feed();
            else if (which[i] == &child.stdout_pipe)
                drain(child.stdout_pipe, result.out, result.out_truncated);
            else
                drain(child.stderr_pipe, result.err, result.err_truncated);
        }
    }
    // The streams are closed (or the deadline passed): wait for the exit, within the deadline.
    while (!result.timed_out && has_deadline) {
        if (auto status = child.try_wait()) {
            result.status = *status;
            return result;
        }
        if (Clock::now() >= deadline)
            result.timed_out = true;
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (result.timed_out) {
        child.kill(SIGKILL);
        child.stdin_pipe.reset();
        child.stdout_pipe.reset();
        child.stderr_pipe.reset();
    }
    result.status = child.wait();
    return result;
}

}  // namespace rustyolo::sdk
