// The SDK's process runner, with real programs (/bin/sh, cat, printf, sleep, env from coreutils).
#include <rustyolo/sdk/process.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rustyolo::sdk {
namespace {

using namespace std::chrono_literals;

RunOptions program(std::vector<std::string> argv) {
    RunOptions options;
    options.argv = std::move(argv);
    return options;
}

RunOptions sh(const std::string &script) { return program({"/bin/sh", "-c", script}); }

TEST(ExitStatus, DecodesExitedAndSignalledTheShellsWay) {
    const ExitStatus three = ExitStatus::from_wait(W_EXITCODE(3, 0));
    EXPECT_TRUE(three.exited());
    EXPECT_EQ(three.code(), 3);
    EXPECT_EQ(three.describe(), "exited with status 3");
    const ExitStatus killed = ExitStatus::from_wait(W_EXITCODE(0, SIGKILL));
    EXPECT_TRUE(killed.signalled());
    EXPECT_EQ(killed.signal(), SIGKILL);
    EXPECT_EQ(killed.code(), 128 + SIGKILL);
    EXPECT_EQ(killed.describe(), "killed by signal 9 (SIGKILL)");
    EXPECT_TRUE(ExitStatus::from_wait(0).success());
    EXPECT_FALSE(three.success());
}

TEST(Process, ExitZero) {
    RunResult r = run(program({"/bin/true"}));
    EXPECT_TRUE(r.status.success());
    EXPECT_EQ(r.code(), 0);
    EXPECT_FALSE(r.timed_out);
}

TEST(Process, ExitN) {
    EXPECT_EQ(run(sh("exit 7")).code(), 7);
    EXPECT_EQ(run(sh("exit 255")).code(), 255);
}

TEST(Process, KilledBySignalIs128PlusTheSignal) {
    RunResult r = run(sh("kill -TERM $$; sleep 5"));
    EXPECT_TRUE(r.status.signalled());
    EXPECT_EQ(r.code(), 128 + SIGTERM);
    EXPECT_NE(r.status.describe().find("SIGTERM"), std::string::npos) << r.status.describe();
}

TEST(Process, CapturesStdoutAndStderrApart) {
    RunResult r = run(sh("printf 'to out'; printf 'to err' >&2; exit 3"));
    EXPECT_EQ(r.out, "to out");
    EXPECT_EQ(r.err, "to err");
    EXPECT_EQ(r.code(), 3);
    EXPECT_FALSE(r.out_truncated);
    EXPECT_FALSE(r.err_truncated);
}

TEST(Process, CaptureIsBoundedAndTheChildStillFinishes) {
    // 4 MiB on each stream: far more than a pipe holds, so the child only finishes when the
    // runner keeps reading past the bound.
    RunOptions options = sh("head -c 4194304 /dev/zero; head -c 4194304 /dev/zero >&2; exit 4");
    options.capture_limit = 1000;
    RunResult r = run(options);
    EXPECT_EQ(r.out.size(), 1000u);
    EXPECT_EQ(r.err.size(), 1000u);
    EXPECT_TRUE(r.out_truncated);
    EXPECT_TRUE(r.err_truncated);
    EXPECT_EQ(r.code(), 4);
}

TEST(Process, TimeoutKillsTheChild) {
    RunOptions options = program({"/bin/sleep", "30"});
    options.timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    RunResult r = run(options);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.status.signal(), SIGKILL);
    EXPECT_EQ(r.code(), 128 + SIGKILL);
}

TEST(Process, TimeoutAlsoAppliesAfterTheChildClosedItsOutput) {
    RunOptions options = sh("exec >/dev/null 2>&1; exec sleep 30");
    options.timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    RunResult r = run(options);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.status.signal(), SIGKILL);
}

TEST(Process, AChildFasterThanItsTimeoutIsNotKilled) {
    RunOptions options = sh("echo done");
    options.timeout = 10s;
    RunResult r = run(options);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.out, "done\n");
    EXPECT_EQ(r.code(), 0);
}

TEST(Process, StdinDataReachesTheChild) {
    RunOptions options = program({"/bin/cat"});
    options.stdin_mode = Stdio::pipe;
    options.stdin_data = "line one\nline two\n";
    EXPECT_EQ(run(options).out, "line one\nline two\n");

    // More than a pipe holds in both directions at once.
    options.stdin_data.assign(3 << 20, 'x');
    options.capture_limit = 4 << 20;
    RunResult big = run(options);
    EXPECT_EQ(big.out.size(), options.stdin_data.size());
    EXPECT_TRUE(big.out == options.stdin_data);
    EXPECT_FALSE(big.out_truncated);
}

TEST(Process, AChildThatIgnoresItsStdinIsNoError) {
    RunOptions options = program({"/bin/true"});
    options.stdin_mode = Stdio::pipe;
    options.stdin_data.assign(4 << 20, 'x');  // EPIPE, and no SIGPIPE for the test process
    EXPECT_EQ(run(options).code(), 0);
}

TEST(Process, StdinIsDevNullByDefault) {
    RunResult r = run(sh("cat; echo end"));
    EXPECT_EQ(r.out, "end\n");
}

TEST(Process, ArgumentsPassVerbatimWithoutAShell) {
    const std::vector<std::string> args = {"a b",    "$(touch /tmp/rustyolo-never)", "`id`", "*",
                                           "; rm -rf /", "'quoted' \"double\"",       "",     "\\n|&>x"};
    RunOptions options = program({"/usr/bin/printf", "[%s]\\n"});
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    RunResult r = run(options);
    std::string expected;
    for (const std::string &a : args)
        expected += "[" + a + "]\n";
    EXPECT_EQ(r.out, expected);
    EXPECT_NE(::access("/tmp/rustyolo-never", F_OK), 0);
}

TEST(Process, AMissingProgramIsAClearError) {
    try {
        run(program({"/nonexistent/rustyolo-no-such-program", "x"}));
        FAIL() << "no error";
    } catch (const ProcessError &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("/nonexistent/rustyolo-no-such-program"), std::string::npos) << message;
        EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
    }
}

TEST(Process, ABareNameNeedsAnExplicitPathLookup) {
    try {
        run(program({"true"}));
        FAIL() << "no error";
    } catch (const ProcessError &e) {
        EXPECT_NE(std::string(e.what()).find("not a path"), std::string::npos) << e.what();
    }
    RunOptions lookup = program({"true"});
    lookup.search_path = true;
    lookup.env = std::vector<std::string>{"PATH=/nonexistent:/bin:/usr/bin"};
    EXPECT_EQ(run(lookup).code(), 0);

    lookup.argv = {"rustyolo-no-such-program"};
    try {
        run(lookup);
        FAIL() << "no error";
    } catch (const ProcessError &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("rustyolo-no-such-program"), std::string::npos) << message;
        EXPECT_NE(message.find("/nonexistent:/bin:/usr/bin"), std::string::npos) << message;
    }
}

// The working directory is often the project the sandboxed agent writes: a file the agent put
// there must never be what a bare program name runs, whatever PATH looks like.
TEST(Process, PathLookupNeverRunsAProgramFromTheWorkingDirectory) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("rustyolo-path-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "bin");
    for (const fs::path &file : {dir / "rustyolo-planted", dir / "bin" / "rustyolo-planted"}) {
        std::ofstream(file) << "#!/bin/sh\nexit 42\n";
        fs::permissions(file, fs::perms::owner_all);
    }
    const fs::path before = fs::current_path();
    fs::current_path(dir);
    RunOptions lookup = program({"rustyolo-planted"});
    lookup.search_path = true;
    for (const std::vector<std::string> &env :
         {std::vector<std::string>{}, {"PATH="}, {"PATH=/nonexistent:"}, {"PATH=::/nonexistent"}, {"PATH=."},
          {"PATH=bin"}, {"PATH=./bin:/nonexistent"}}) {
        lookup.env = env;
        const std::string shown = env.empty() ? "(no PATH)" : env.front();
        try {
            const RunResult r = run(lookup);
            ADD_FAILURE() << shown << ": ran a program from the working directory (exit " << r.code() << ")";
        } catch (const ProcessError &e) {
            EXPECT_NE(std::string(e.what()).find("not found in PATH"), std::string::npos) << shown << ": " << e.what();
        }
    }
    // Controls: an absolute entry finds it; without PATH the system's default directories are used.
    lookup.env = std::vector<std::string>{"PATH=/nonexistent:" + (dir / "bin").string()};
    EXPECT_EQ(run(lookup).code(), 42);
    lookup.env = std::vector<std::string>{};
    lookup.argv = {"sh", "-c", "exit 7"};
    EXPECT_EQ(run(lookup).code(), 7);
    fs::current_path(before);
    fs::remove_all(dir);
}

TEST(Process, EnvironmentIsExactOrExtended) {
    RunOptions options = program({"/usr/bin/env"});
    options.env = std::vector<std::string>{"A=1", "B=2"};
    options.extra_env = {"B=3", "C=4"};
    EXPECT_EQ(run(options).out, "A=1\nB=3\nC=4\n");
}

TEST(Process, HandsOverDescriptorsAndClosesEveryOther) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd read_end(p[0]), write_end(p[1]);
    // An inherited descriptor without close-on-exec: the child must not get it.
    UniqueFd leaked(::fcntl(read_end.get(), F_DUPFD, 40));
    ASSERT_TRUE(leaked);
    RunOptions options = sh("echo handed >&5; test -e /proc/self/fd/" + std::to_string(leaked.get()) +
                            " && echo leaked");
    options.fds = {{5, write_end.get()}};
    RunResult r = run(options);
    write_end.reset();
    char buffer[64] = {};
    const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0), "handed\n");
    EXPECT_EQ(r.out, "");
}

TEST(Process, ChildSetupFailureNamesTheStepAndErrno) {
    RunOptions options = program({"/bin/true"});
    options.child_setup = []() -> const char * {
        errno = EPERM;
        return "a test step";
    };
    try {
        run(options);
        FAIL() << "no error";
    } catch (const ProcessError &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("a test step"), std::string::npos) << message;
        EXPECT_NE(message.find(std::strerror(EPERM)), std::string::npos) << message;
    }
}

TEST(Process, NewSessionAndNoNewPrivs) {
    RunOptions options = sh("grep NoNewPrivs /proc/self/status; echo $$; cut -d' ' -f6 /proc/$$/stat");
    options.new_session = true;
    options.no_new_privs = true;
    RunResult r = run(options);
    const std::string first = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(first, "NoNewPrivs:\t1");
    const std::string rest = r.out.substr(first.size() + 1);
    const std::string pid = rest.substr(0, rest.find('\n'));
    EXPECT_EQ(rest, pid + "\n" + pid + "\n");  // its session id is its pid
}

TEST(Process, SpawnedChildRunsUntilWaitedFor) {
    RunOptions options = program({"/bin/cat"});
    options.stdin_mode = Stdio::pipe;
    options.stdout_mode = Stdio::null;
    options.stderr_mode = Stdio::null;
    Child child = spawn(options);
    ASSERT_GT(child.pid(), 0);
    EXPECT_FALSE(child.try_wait().has_value());
    child.stdin_pipe.reset();  // EOF: cat exits
    EXPECT_EQ(child.wait().code(), 0);
}

TEST(Process, ADestroyedChildIsKilledAndReaped) {
    pid_t pid = -1;
    {
        Child child = spawn(program({"/bin/sleep", "30"}));
        pid = child.pid();
    }
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace rustyolo::sdk
