// The supervisor as PID 1 uses it: exit codes, signal forwarding, and what the agent leaves
// behind. The test process becomes a child subreaper, so that orphans re-parent to it as they do
// to PID 1 in the container.
#include "entrypoint/signals.hpp"
#include "entrypoint/supervisor.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace rustyolo::entrypoint {
namespace {

// A uid no process runs as, and never root: the sweep for leftovers must not reach anything of the
// machine running the tests (outside a container's PID namespace it only looks at the session).
constexpr uid_t kNoSuchUid = 3999999999u;

class Supervisor : public ::testing::Test {
protected:
    void SetUp() override {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        sigset_t set = supervisor_signal_set();
        ::pthread_sigmask(SIG_BLOCK, &set, &saved_mask);
    }
    void TearDown() override {
        // Take whatever supervise() left pending, then restore.
        sigset_t set = supervisor_signal_set();
        timespec zero{0, 0};
        while (::sigtimedwait(&set, nullptr, &zero) > 0) {
        }
        ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
        ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }
    // Starts `script` with sh in its own session, like the agent (signals unblocked).
    pid_t start(const char *script) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::setsid();
            reset_signals_for_exec();
            ::execl("/bin/sh", "sh", "-c", script, static_cast<char *>(nullptr));
            ::_exit(127);
        }
        return pid;
    }
    sigset_t saved_mask{};
};

TEST_F(Supervisor, ReturnsTheAgentsExitCode) { EXPECT_EQ(supervise(start("exit 7"), kNoSuchUid), 7); }

TEST_F(Supervisor, Returns128PlusTheSignalThatKilledTheAgent) {
    EXPECT_EQ(supervise(start("kill -KILL $$"), kNoSuchUid), 128 + SIGKILL);
}

TEST_F(Supervisor, ForwardsSignalsToTheAgentsProcessGroup) {
    const pid_t agent = start("trap 'exit 42' USR1; sleep 30 & wait");
    std::thread sender([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::kill(::getpid(), SIGUSR1);  // to "PID 1", as docker kill would
    });
    EXPECT_EQ(supervise(agent, kNoSuchUid), 42);
    sender.join();
}

TEST_F(Supervisor, EndsWhatTheAgentLeftInItsSessionIncludingProcessesIgnoringSigterm) {
    const pid_t agent = start("sleep 30 & (trap '' TERM; exec sleep 31) & sleep 0.3; exit 3");
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(supervise(agent, kNoSuchUid), 3);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    EXPECT_TRUE(agent_processes(agent, kNoSuchUid).empty());
}

TEST_F(Supervisor, NeverSweepsByUidOutsideAContainerOrForRoot) {
    // The test process is not PID 1: only the agent's session counts, whatever the uid.
    const pid_t agent = start("sleep 30");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto found = agent_processes(agent, ::getuid());
    EXPECT_FALSE(found.empty());
    EXPECT_LE(found.size(), 2u);  // sh and its sleep, nothing else of this uid
    EXPECT_TRUE(agent_processes(1, 0).empty());
    ::kill(agent, SIGKILL);
    ::waitpid(agent, nullptr, 0);
}

}  // namespace
}  // namespace rustyolo::entrypoint
