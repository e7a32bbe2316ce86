// Attacks on the audit channel's exact counts (review of sec-audit): what a hostile agent can do to
// the equation records + suppressed + lost = what happened, end to end through the real channel
// (entrypoint/audit_channel.cc, entrypoint/suppressed_tally.cc) and the real host hub (core/audit/hub.cc).
//
// The channel is one per process, so every scenario runs in a fresh process: a "threadsafe" death
// test re-executes this binary for just that test, and the scenario's verdict is its exit code
// (0: the property held; 1: it did not, with the reason on stderr).
#include "entrypoint/audit_channel.hpp"
#include "core/audit/hub.hpp"
#include "core/audit/record.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace rustyolo::entrypoint {
namespace {

namespace json = boost::json;

std::string fixture(const std::string &name) { return std::string(RUSTYOLO_TEST_FIXTURE_DIR) + "/" + name + ".so"; }

// What the host made of a session: the records its sinks got and its exact blocked counts.
struct HostView {
    std::vector<json::object> records;
    std::map<std::string, std::uint64_t> blocked;
    std::uint64_t blocked_total() const {
        std::uint64_t total = 0;
        for (const auto &[key, n] : blocked)
            total += n;
        return total;
    }
};

// Runs `emit` against the real channel (level basic) on a socketpair, then hands every line the
// supervisor sent to a real AuditHub as SessionSocket would, and finishes it as run.cc does.
HostView run_session(const std::function<void()> &emit) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        std::_Exit(3);
    std::string received;
    std::thread reader([&] {
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::read(pair[1], buffer, sizeof buffer);
            if (n <= 0)
                break;
            received.append(buffer, static_cast<std::size_t>(n));
        }
    });
    audit_start(pair[0], "basic");
    emit();
    audit_finish(5000);
    ::shutdown(pair[0], SHUT_RDWR);
    reader.join();
    ::close(pair[1]);

    HostView view;
    PluginRegistry registry{HostServices{"host", [&view](const std::string &, const json::object &e) {
                                             view.records.push_back(e);
                                         }}};
    registry.load(fixture("good"), false);
    AuditHub hub(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "basic", "/x", "/dev/log"});
    std::size_t start = 0;
    while (start < received.size()) {
        std::size_t end = received.find('\n', start);
        if (end == std::string::npos)
            end = received.size();
        const std::string_view line = std::string_view(received).substr(start, end - start);
        hub.wire_line(line.substr(0, audit::kMaxWireLine), line.size() > audit::kMaxWireLine);
        start = end + 1;
    }
    hub.finish(0, "connection lost");  // what run.cc passes
    view.blocked = hub.blocked_counts();
    return view;
}

// The agent's flood: enough blocked packets to empty the token bucket (burst 2000).
constexpr int kFlood = 3000;
constexpr std::uint64_t kLost = 5000;  // packets whose log messages the kernel dropped
void flood() {
    for (int i = 0; i < kFlood; ++i)
        audit_emit("network", "block", "packet",
                   json::object{{"destination", "10.9.9.9"}, {"port", 1 + i % 50}, {"protocol", "udp"}});
}

// FINDING 1. The firewall plugin reports the packets whose log messages the kernel dropped (a
// netlink overrun: only a flood causes one) as ONE "network/lost" record with
// details.count = N (packet_audit.cc: lost_record, emitted from the plugin's destructor at the end
// of the session). When that record meets an empty token bucket — again what the same flood
// causes, and a leftover process can keep it empty through the teardown — the channel counts it
// as one suppressed record under the key "lost": N-1 blocked
// packets vanish from the totals, and nothing says so (no transport record, no "lifecycle lost").
TEST(AuditAttacks, ARateLimitedNetworkLostRecordKeepsItsCount) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            const HostView host = run_session([] {
                flood();
                // As net-nftables' destructor does through HostServices' audit callback.
                audit_emit_from_plugin("net-nftables",
                                       json::object{{"layer", "network"}, {"verdict", "block"}, {"event", "lost"},
                                                    {"details", json::object{{"count", kLost}}}});
            });
            const std::uint64_t expected = kFlood + kLost;
            if (host.blocked_total() != expected) {
                std::fprintf(stderr, "host's exact blocked total %llu, events %llu (key \"lost\": %llu)\n",
                             static_cast<unsigned long long>(host.blocked_total()),
                             static_cast<unsigned long long>(expected),
                             static_cast<unsigned long long>(host.blocked.count("lost") ? host.blocked.at("lost") : 0));
                std::_Exit(1);
            }
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

// FINDING 2. The supervisor's own lifecycle records go through the same token bucket as the
// agent's flood. The agent floods until it exits, so the supervisor's "exit" record (exit code,
// reason, supervisor_cpu_ms) is only counted under "lifecycle exit" in a suppressed line; the host
// then sees no exit record and writes its own with reason "connection lost" — the session reads as
// a broken transport (the one signal that records may be missing) and the supervisor's reason
// ("setup failed: ...", "interrupted by ...") is gone. The same holds for "self_test" records.
TEST(AuditAttacks, TheSupervisorsExitRecordIsNeverRateLimited) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            const HostView host = run_session([] {
                flood();
                // As main.cc does at the end.
                audit_emit("lifecycle", "info", "exit",
                           json::object{{"exit_code", 0}, {"reason", "agent exited"}, {"supervisor_cpu_ms", 7}});
            });
            for (const json::object &r : host.records)
                if (r.at("event") == "exit") {
                    if (r.at("details").at("reason") != "agent exited") {
                        std::fprintf(stderr, "the file's exit record: %s\n", json::serialize(r).c_str());
                        std::_Exit(1);
                    }
                    std::_Exit(0);
                }
            std::fprintf(stderr, "no exit record at all\n");
            std::_Exit(1);
        },
        ::testing::ExitedWithCode(0), "");
}

// The twins of findings 1 and 2: the agent's own flood is still held to the rate limit (the
// exemption is not a way around it) and still counted exactly, and no more than a handful of the
// supervisor's own records skip the limit.
TEST(AuditAttacks, TheAgentsFloodIsStillRateLimitedAndCountedExactly) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            const HostView host = run_session([] {
                flood();
                audit_emit("lifecycle", "info", "exit", json::object{{"exit_code", 0}, {"reason", "agent exited"}});
            });
            std::size_t packets = 0;
            for (const json::object &r : host.records)
                packets += r.at("event") == "packet";
            if (packets >= static_cast<std::size_t>(kFlood) || host.blocked_total() != kFlood) {
                std::fprintf(stderr, "%zu packet records of %d, blocked total %llu\n", packets, kFlood,
                             static_cast<unsigned long long>(host.blocked_total()));
                std::_Exit(1);
            }
            std::_Exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

// 0 when 200 self_test records after a flood are all accounted for and only a handful were sent.
int own_records_scenario() {
    constexpr int kOwn = 200;
    const HostView host = run_session([] {
        flood();
        for (int i = 0; i < kOwn; ++i)
            audit_emit("lifecycle", "info", "self_test", json::object{{"plugin", "x"}, {"result", "pass"}});
    });
    std::uint64_t sent = 0;
    std::uint64_t counted = 0;
    for (const json::object &r : host.records) {
        if (r.at("event") == "self_test")
            ++sent;
        if (r.at("event") == "suppressed")
            if (const json::value *info = r.at("details").at("counts").as_object().if_contains("info"))
                if (const json::value *n = info->as_object().if_contains("lifecycle self_test"))
                    counted += n->to_number<std::uint64_t>();
    }
    // 64 skip the limit; a few more may find a token refilled meanwhile (200/s).
    if (sent < 64 || sent > 100 || sent + counted != kOwn) {
        std::fprintf(stderr, "%llu self_test records sent, %llu counted, of %d\n", static_cast<unsigned long long>(sent),
                     static_cast<unsigned long long>(counted), kOwn);
        return 1;
    }
    return 0;
}

TEST(AuditAttacks, OnlyAHandfulOfTheSupervisorsOwnRecordsSkipTheRateLimit) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(std::_Exit(own_records_scenario()), ::testing::ExitedWithCode(0), "");
}

// The twin of the pids-limit finding: a record for one refused fork counts one.
TEST(AuditAttacks, APidsLimitRecordForOneForkCountsOne) {
    std::vector<json::object> received;
    PluginRegistry registry{HostServices{"host", [&](const std::string &, const json::object &e) {
                                             received.push_back(e);
                                         }}};
    registry.load(fixture("good"), false);
    AuditHub hub(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "basic", "/x", "/dev/log"});
    hub.wire_line(json::serialize(audit::make_record("resource", "block", "pids_limit",
                                                     json::object{{"count", 1}, {"new", 1}, {"rule", "pids limit"}})),
                  false);
    hub.finish(0, "connection lost");
    EXPECT_EQ(hub.blocked_counts(), (std::map<std::string, std::uint64_t>{{"resource pids_limit", 1}}));
}

// FINDING 1, the same class on the host: a resource record stands for `new` events (the pids limit
// refused that many forks since the last poll, 250 ms; docs/audit-schema.md), but the host's exact
// counts — the stderr summary and the capped file's "dropped" total — add one per record. A fork
// bomb refused 10 000 times in a second shows as 4.
TEST(AuditAttacks, APidsLimitRecordCountsEveryRefusedFork) {
    std::vector<json::object> received;
    PluginRegistry registry{HostServices{"host", [&](const std::string &, const json::object &e) {
                                             received.push_back(e);
                                         }}};
    registry.load(fixture("good"), false);
    AuditHub hub(find_audit_sinks(registry, {"fixture-good"}), AuditSessionInfo{"s", "exec", "basic", "/x", "/dev/log"});
    std::uint64_t refused = 0;
    for (int poll = 1; poll <= 4; ++poll) {
        refused += 2500;
        // As resource_watch.cc makes it.
        hub.wire_line(json::serialize(audit::make_record("resource", "block", "pids_limit",
                                                         json::object{{"count", refused},
                                                                      {"new", 2500},
                                                                      {"rule", "pids limit"},
                                                                      {"limit", 256}})),
                      false);
    }
    hub.finish(0, "connection lost");
    EXPECT_EQ(hub.blocked_counts(), (std::map<std::string, std::uint64_t>{{"resource pids_limit", refused}}));
}

}  // namespace
}  // namespace rustyolo::entrypoint
