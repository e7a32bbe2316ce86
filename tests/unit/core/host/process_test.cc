// The CLI's use of the SDK runner: PATH lookup, errors as Error, signal forwarding.
#include "core/host/process.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <string>

namespace rustyolo {
namespace {

TEST(HostProcess, CaptureLooksTheProgramUpInPath) {
    Captured c = run_capture({"sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(c.status, 3);
    EXPECT_EQ(c.out, "out\n");
    EXPECT_EQ(c.err, "err\n");
}

TEST(HostProcess, AMissingProgramIsAnErrorNamingIt) {
    try {
        run_capture({"rustyolo-no-such-program", "x"});
        FAIL() << "no error";
    } catch (const Error &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("rustyolo-no-such-program"), std::string::npos) << message;
        EXPECT_NE(message.find("not found in PATH"), std::string::npos) << message;
    }
    EXPECT_THROW(run_foreground({"rustyolo-no-such-program"}), Error);
}

TEST(HostProcess, ForegroundReturnsTheExitCodeAndPassesExtraEnvironment) {
    EXPECT_EQ(run_foreground({"sh", "-c", "exit 5"}), 5);
    ProcessOptions options;
    options.extra_env = {"RUSTYOLO_PROCESS_TEST=yes"};
    EXPECT_EQ(run_foreground({"sh", "-c", "test \"$RUSTYOLO_PROCESS_TEST\" = yes"}, options), 0);
}

TEST(HostProcess, ForwardsASignalSentToTheCliToTheChild) {
    ProcessOptions options;
    options.forward_signals = true;
    // The child asks its parent (this test) to be terminated; the parent passes SIGTERM on.
    const int code = run_foreground({"sh", "-c", "sleep 0.5; kill -TERM $PPID; exec sleep 10"}, options);
    EXPECT_EQ(code, 128 + SIGTERM);
    // The test process's own disposition is back to what it was.
    struct sigaction now {};
    ::sigaction(SIGTERM, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

}  // namespace
}  // namespace rustyolo
