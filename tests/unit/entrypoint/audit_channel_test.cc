#include "entrypoint/audit_channel.hpp"

#include "core/audit/record.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>

namespace rustyolo::entrypoint {
namespace {

namespace json = boost::json;

// The channel is one per process (the supervisor's): this is its only test. It floods the channel
// far past its burst and checks that what arrives — records plus suppressed counts — adds up to
// exactly what was emitted, per key, and that the level filters.
TEST(AuditChannel, AFloodArrivesAsBoundedRecordsWithExactCounts) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
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

    // Emitted before the start: kept, then filtered by the level when it is known.
    audit_emit("dns", "allow", "query", json::object{{"name", "early.test"}, {"qtype", "A"}});
    audit_emit("lifecycle", "info", "early", json::object{});
    audit_start(pair[0], "basic");
    constexpr int kFlood = 20000;
    for (int i = 0; i < kFlood; ++i)
        audit_emit("network", "block", "packet",
                   json::object{{"destination", "10.9.9." + std::to_string(i % 3)}, {"port", 22}, {"protocol", "tcp"}});
    // Then a flood of distinct keys, some very long: the suppressed counts need many lines, and
    // none may be longer than the host accepts (it would refuse the line and lose its counts).
    constexpr int kPorts = 5000;
    for (int port = 1; port <= kPorts; ++port)
        audit_emit("network", "block", "packet",
                   json::object{{"destination", "10.9.8.1"}, {"port", port}, {"protocol", "udp"}});
    constexpr int kNames = 300;
    for (int i = 0; i < kNames; ++i)
        audit_emit("dns", "block", "query",
                   json::object{{"name", std::to_string(i) + std::string(240, '"') + ".long.test"}, {"qtype", "A"}});
    audit_emit("dns", "allow", "query", json::object{{"name", "a.test"}, {"qtype", "A"}});  // basic: dropped
    audit_emit_from_plugin("fixture", json::object{{"layer", "bogus"}, {"verdict", "block"}, {"event", "x"},
                                                   {"details", json::object{}}});       // malformed: dropped
    audit_emit_from_plugin("fixture", json::object{{"layer", "syscall"}, {"verdict", "block"},
                                                   {"event", "denied"}, {"details", {{"syscall", "mount"}}}});
    audit_finish(5000);
    ::shutdown(pair[0], SHUT_RDWR);
    reader.join();
    ::close(pair[1]);

    std::map<std::string, std::uint64_t> total;
    std::size_t lines = 0;
    bool early_info = false;
    std::size_t start = 0;
    while (start < received.size()) {
        const std::size_t end = received.find('\n', start);
        ASSERT_NE(end, std::string::npos) << "an unterminated line";
        const std::string line = received.substr(start, end - start);
        start = end + 1;
        ++lines;
        ASSERT_LE(line.size(), audit::kMaxWireLine) << line.substr(0, 200);
        json::value v = json::parse(line);
        ASSERT_EQ(audit::check_wire_record(v), std::nullopt) << line;
        const json::object &r = v.as_object();
        EXPECT_NE(r.at("verdict"), "allow") << line;
        if (r.at("event") == "early")
            early_info = true;
        if (r.at("event") == "suppressed") {
            for (const auto &[verdict, keys] : r.at("details").at("counts").as_object())
                for (const auto &[key, n] : keys.as_object())
                    total[std::string(verdict) + " " + std::string(key)] += n.to_number<std::uint64_t>();
        } else {
            ++total[std::string(r.at("verdict").as_string()) + " " + audit::summary_key(r)];
        }
    }
    EXPECT_TRUE(early_info);
    for (int k = 0; k < 3; ++k) {
        const std::string key = "block 10.9.9." + std::to_string(k) + ":22/tcp";
        EXPECT_EQ(total[key], static_cast<std::uint64_t>(kFlood / 3 + (k < kFlood % 3 ? 1 : 0))) << key;
    }
    EXPECT_EQ(total["block syscall mount"], 1u);
    // Every one of the distinct-key flood is counted, under its own key or a coarser one.
    std::uint64_t ports = 0, names = 0;
    for (const auto &[key, n] : total) {
        if (key.rfind("block 10.9.8.1:", 0) == 0 || key == "block *:*/udp")
            ports += n;
        if (key.rfind("block dns A ", 0) == 0 && key.find(".long.test") != std::string::npos)
            names += n;
        if (key == "block dns * *")
            names += n;
    }
    EXPECT_EQ(ports, static_cast<std::uint64_t>(kPorts));
    EXPECT_EQ(names, static_cast<std::uint64_t>(kNames));
    EXPECT_EQ(total.count("allow dns A a.test"), 0u);
    EXPECT_LT(lines, 2300u) << "the burst is 2000 records";
}

}  // namespace
}  // namespace rustyolo::entrypoint
