// The end-of-session summary: exact counts, grouped by layer, bounded, with a hint per layer.
#include "core/audit/summary.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace rustyolo {
namespace {

using ::testing::HasSubstr;
using Counts = std::map<std::string, std::uint64_t>;

TEST(AuditSummary, NothingBlockedIsOneLineWithTheLocation) {
    EXPECT_EQ(format_summary({}, "/s/a.jsonl"), "rustyolo: nothing was blocked (records: /s/a.jsonl)\n");
}

TEST(AuditSummary, ZeroCountsAreNothingBlocked) {
    EXPECT_EQ(format_summary({{"evil.test:443/tcp", 0}}, "L"), "rustyolo: nothing was blocked (records: L)\n");
}

TEST(AuditSummary, NetworkLineCountsEveryKeyMostFrequentFirst) {
    EXPECT_EQ(format_summary({{"10.1.2.3:22/tcp", 1}, {"evil.test:443/tcp", 2}}, "L"),
              "rustyolo: 3 connections blocked: evil.test:443/tcp ×2, 10.1.2.3:22/tcp — allow with "
              "--allow-domains NAME\n"
              "rustyolo: records: L\n");
}

TEST(AuditSummary, SingularForOne) {
    EXPECT_EQ(format_summary({{"10.1.2.3/icmp", 1}}, "L"),
              "rustyolo: 1 connection blocked: 10.1.2.3/icmp — allow with --allow-domains NAME\n"
              "rustyolo: records: L\n");
}

TEST(AuditSummary, EachLayerHasItsLineAndHintInAFixedOrder) {
    const std::string out = format_summary({{"syscall ptrace", 3},
                                            {"dns TXT x.evil.test", 7},
                                            {"mount /var/run/docker.sock", 1},
                                            {"resource oom_kill", 1},
                                            {"evil.test:443/tcp", 1}},
                                           "L");
    EXPECT_EQ(out,
              "rustyolo: 1 connection blocked: evil.test:443/tcp — allow with --allow-domains NAME\n"
              "rustyolo: 7 DNS queries refused: TXT x.evil.test ×7 — allow with --allow-domains NAME\n"
              "rustyolo: 3 system calls denied: ptrace ×3 — see --seccomp-profile\n"
              "rustyolo: 1 mount refused: /var/run/docker.sock — see docs/user-guide.md\n"
              "rustyolo: 1 resource limit hit: oom_kill — see --memory, --pids-limit, --tmp-size and --home-size\n"
              "rustyolo: records: L\n");
}

TEST(AuditSummary, AtMostFiveKeysPerLayerAndHowManyMore) {
    Counts counts;
    for (int i = 0; i < 8; ++i)
        counts["h" + std::to_string(i) + ".test:443/tcp"] = static_cast<std::uint64_t>(10 + i);
    const std::string out = format_summary(counts, "L");
    EXPECT_THAT(out, HasSubstr("rustyolo: 108 connections blocked: h7.test:443/tcp ×17, h6.test:443/tcp ×16, "
                               "h5.test:443/tcp ×15, h4.test:443/tcp ×14, h3.test:443/tcp ×13 and 3 more — "));
    EXPECT_THAT(out, ::testing::Not(HasSubstr("h2.test")));
}

TEST(AuditSummary, LargeExactCountsAreShownExactly) {
    EXPECT_THAT(format_summary({{"evil.test:443/tcp", 100000}}, "L"),
                HasSubstr("100000 connections blocked: evil.test:443/tcp ×100000"));
}

TEST(AuditSummary, EqualCountsAreInKeyOrder) {
    EXPECT_THAT(format_summary({{"syscall bpf", 2}, {"syscall add_key", 2}}, "L"),
                HasSubstr("4 system calls denied: add_key ×2, bpf ×2"));
}

}  // namespace
}  // namespace rustyolo
