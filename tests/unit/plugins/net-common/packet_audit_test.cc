// The blocked-packet records: header parsing of what NFLOG copies, and the record's fields
// (docs/audit-schema.md, layer network, events packet and lost).
#include "plugins/net-common/packet_audit.hpp"

#include "plugins/net-nftables/drop_counters.hpp"
#include "plugins/net-nftables/nft_context.hpp"
#include "tests/unit/support/scratch_netns.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

std::vector<std::uint8_t> ipv4(std::uint8_t protocol, std::vector<std::uint8_t> l4, std::uint16_t fragment = 0) {
    std::vector<std::uint8_t> p = {0x45, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(fragment >> 8),
                                   static_cast<std::uint8_t>(fragment), 64, protocol, 0, 0,
                                   172, 29, 0, 130,   // source
                                   172, 29, 0, 22};   // destination
    p.insert(p.end(), l4.begin(), l4.end());
    return p;
}

std::vector<std::uint8_t> ipv6(std::uint8_t next, std::vector<std::uint8_t> rest) {
    std::vector<std::uint8_t> p(40, 0);
    p[0] = 0x60;
    p[6] = next;
    p[7] = 64;
    // source fd29:29:0::2, destination fd29:29:0::15
    std::uint8_t prefix[] = {0xfd, 0x29, 0x00, 0x29, 0, 0, 0, 0};
    for (int i = 0; i < 8; ++i)
        p[8 + i] = p[24 + i] = prefix[i];
    p[23] = 0x02;
    p[39] = 0x15;
    p.insert(p.end(), rest.begin(), rest.end());
    return p;
}

const std::vector<std::uint8_t> ports_40000_443 = {0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 0};

TEST(PacketHeaders, Ipv4TcpGivesAddressesAndPorts) {
    auto p = ipv4(6, ports_40000_443);
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.family, 4);
    EXPECT_EQ(h.protocol, 6);
    EXPECT_STREQ(h.source, "172.29.0.130");
    EXPECT_STREQ(h.destination, "172.29.0.22");
    ASSERT_TRUE(h.has_ports);
    EXPECT_EQ(h.source_port, 40000);
    EXPECT_EQ(h.destination_port, 443);
}

TEST(PacketHeaders, Ipv4IcmpHasNoPorts) {
    auto p = ipv4(1, {8, 0, 0, 0, 0, 1, 0, 1});
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.family, 4);
    EXPECT_EQ(h.protocol, 1);
    EXPECT_FALSE(h.has_ports);
}

TEST(PacketHeaders, Ipv4LaterFragmentHasNoPorts) {
    auto p = ipv4(17, ports_40000_443, 0x0010);  // fragment offset 16 (x 8 bytes)
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.protocol, 17);
    EXPECT_FALSE(h.has_ports);
}

TEST(PacketHeaders, Ipv4WithOptionsFindsTheTransportHeader) {
    auto p = ipv4(17, {1, 1, 1, 1});  // 4 option bytes (NOPs), then the UDP ports
    p[0] = 0x46;
    p.insert(p.end(), {0x30, 0x39, 0x27, 0x0f});
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    ASSERT_TRUE(h.has_ports);
    EXPECT_EQ(h.source_port, 12345);
    EXPECT_EQ(h.destination_port, 9999);
}

TEST(PacketHeaders, TruncatedTransportHeaderLeavesPortsUnset) {
    auto p = ipv4(6, {0x9c, 0x40});
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.family, 4);
    EXPECT_FALSE(h.has_ports);
}

TEST(PacketHeaders, Ipv6TcpAfterExtensionHeaders) {
    // hop-by-hop (8 bytes) -> destination options (16 bytes) -> TCP
    std::vector<std::uint8_t> rest = {60, 0, 0, 0, 0, 0, 0, 0, 6, 1};
    rest.resize(8 + 16, 0);
    rest.insert(rest.end(), ports_40000_443.begin(), ports_40000_443.end());
    auto p = ipv6(0, rest);
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.family, 6);
    EXPECT_EQ(h.protocol, 6);
    EXPECT_STREQ(h.source, "fd29:29::2");
    EXPECT_STREQ(h.destination, "fd29:29::15");
    ASSERT_TRUE(h.has_ports);
    EXPECT_EQ(h.destination_port, 443);
}

TEST(PacketHeaders, Ipv6LaterFragmentHasNoPorts) {
    std::vector<std::uint8_t> rest = {17, 0, 0x00, 0x08, 0, 0, 0, 1};  // offset 1 (x 8 bytes)
    rest.insert(rest.end(), ports_40000_443.begin(), ports_40000_443.end());
    auto p = ipv6(44, rest);
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.protocol, 17);
    EXPECT_FALSE(h.has_ports);
}

TEST(PacketHeaders, Icmpv6) {
    auto p = ipv6(58, {128, 0, 0, 0});
    PacketHeaders h = parse_packet_headers(p.data(), p.size());
    EXPECT_EQ(h.family, 6);
    EXPECT_EQ(h.protocol, 58);
    EXPECT_FALSE(h.has_ports);
}

TEST(PacketHeaders, GarbageIsNotAnIpPacket) {
    std::vector<std::uint8_t> short4 = {0x45, 0, 0};
    EXPECT_EQ(parse_packet_headers(short4.data(), short4.size()).family, 0);
    std::vector<std::uint8_t> bad_ihl(20, 0);
    bad_ihl[0] = 0x41;
    EXPECT_EQ(parse_packet_headers(bad_ihl.data(), bad_ihl.size()).family, 0);
    std::vector<std::uint8_t> other(60, 0);
    other[0] = 0x50;
    EXPECT_EQ(parse_packet_headers(other.data(), other.size()).family, 0);
    EXPECT_EQ(parse_packet_headers(nullptr, 0).family, 0);
}

TEST(PacketHeaders, ProtocolNames) {
    char buffer[4];
    EXPECT_EQ(protocol_name(6, buffer), "tcp");
    EXPECT_EQ(protocol_name(17, buffer), "udp");
    EXPECT_EQ(protocol_name(1, buffer), "icmp");
    EXPECT_EQ(protocol_name(58, buffer), "icmpv6");
    EXPECT_EQ(protocol_name(47, buffer), "47");
    EXPECT_EQ(protocol_name(0, buffer), "0");
    EXPECT_EQ(protocol_name(255, buffer), "255");
}

TEST(PacketRecord, OutgoingTcpRecordHasEveryField) {
    auto bytes = ipv4(6, ports_40000_443);
    BlockedPacket packet{parse_packet_headers(bytes.data(), bytes.size()), "blocked_output", true, 1000};
    json::object record = packet_record(packet, std::string("allowed.test"));
    EXPECT_EQ(record.at("layer"), "network");
    EXPECT_EQ(record.at("verdict"), "block");
    EXPECT_EQ(record.at("event"), "packet");
    json::object expected{{"protocol", "tcp"},     {"family", 4},          {"direction", "out"},
                          {"destination", "172.29.0.22"}, {"port", 443},   {"source", "172.29.0.130"},
                          {"source_port", 40000},  {"name", "allowed.test"}, {"uid", 1000},
                          {"rule", "blocked_output"}};
    EXPECT_EQ(record.at("details").as_object(), expected) << json::serialize(record);
}

TEST(PacketRecord, IncomingIcmpHasNullPortsNameAndUid) {
    auto bytes = ipv4(1, {8, 0, 0, 0});
    BlockedPacket packet{parse_packet_headers(bytes.data(), bytes.size()), "blocked_input", false, 0};
    json::object details = packet_record(packet, std::nullopt).at("details").as_object();
    EXPECT_EQ(details.at("direction"), "in");
    EXPECT_EQ(details.at("protocol"), "icmp");
    EXPECT_TRUE(details.at("port").is_null());
    EXPECT_TRUE(details.at("source_port").is_null());
    EXPECT_TRUE(details.at("name").is_null());
    EXPECT_TRUE(details.at("uid").is_null());
    EXPECT_EQ(details.at("rule"), "blocked_input");
}

TEST(PacketRecord, GuardDropsGoOut) {
    EXPECT_EQ(packet_direction("blocked_guard"), "out");
    EXPECT_EQ(packet_direction("blocked_output"), "out");
    EXPECT_EQ(packet_direction("blocked_input"), "in");
}

TEST(PacketRecord, LostRecordAndCount) {
    EXPECT_EQ(json::serialize(lost_record(7)),
              R"({"layer":"network","verdict":"block","event":"lost","details":{"count":7}})");
    EXPECT_EQ(lost_count(10, 7), 3u);
    EXPECT_EQ(lost_count(10, 10), 0u);
    EXPECT_EQ(lost_count(10, 12), 0u);  // logs of packets counted after the counters were read
}

TEST(PacketAudit, TheProbeGroupIsNeverTheAgentsOwn) {
    EXPECT_EQ(self_test_probe_gid(1000), 65532u);
    EXPECT_EQ(self_test_probe_gid(0), 65532u);
    EXPECT_EQ(self_test_probe_gid(65532), 65531u);
}

// In a child: sends one UDP datagram to 127.0.0.1:9 as uid:gid; exits with the send's errno.
int send_as(std::uint32_t uid, std::uint32_t gid) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0)
            ::_exit(200);
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(9);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = ::sendto(fd, "x", 1, 0, reinterpret_cast<const sockaddr *>(&to), sizeof to) < 0 ? errno : 0;
        ::_exit(rc);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The kernel's NFLOG messages carry the sending socket's uid and gid: drops of the agent's uid
// with the probe group are received but not reported; with any other group they are reported.
// The counters and the messages received agree at the end (nothing lost).
TEST(PacketAudit, LeavesOutExactlyTheProbeGroupsPacketsOfTheAgentsUid) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root for a scratch network namespace";
    std::string problem = test_support::in_scratch_netns([]() -> std::string {
        if (!test_support::loopback_up())
            return "cannot bring lo up";
        std::mutex mutex;
        std::vector<json::object> records;
        PacketAudit audit(1000, 1000, [&](const json::object &record) {
            std::lock_guard lock(mutex);
            records.push_back(record);
        });
        nft::NftContext().run("table inet t {\n chain o {\n  type filter hook output priority 0; policy accept;\n"
                              "  udp dport 9 counter log prefix \"blocked_output\" group 1700 drop\n }\n}\n",
                              "test rule");
        const std::uint32_t probe = self_test_probe_gid(1000);
        for (std::uint32_t gid : {probe, 1000u, 4242u, probe})
            if (int error = send_as(1000, gid); error != EPERM)
                return "the datagram as gid " + std::to_string(gid) + " was not dropped: " + std::to_string(error);
        if (int error = send_as(2000, probe); error != EPERM)  // another uid with the probe group
            return "the datagram of uid 2000 was not dropped: " + std::to_string(error);
        nft::NftContext counters(true);
        const std::uint64_t counted =
            nft::counter_packets(json::parse(counters.run("list table inet t", "list")));
        const std::uint64_t lost = audit.finish(counted);
        std::lock_guard lock(mutex);
        std::vector<std::string> seen;
        for (const json::object &record : records) {
            const json::object &details = record.at("details").as_object();
            seen.push_back(std::to_string(details.at("uid").to_number<std::int64_t>()));
        }
        if (counted != 5 || lost != 0 || audit.received() != 5 || audit.skipped() != 2 || records.size() != 3)
            return "counted " + std::to_string(counted) + ", lost " + std::to_string(lost) + ", received " +
                   std::to_string(audit.received()) + ", skipped " + std::to_string(audit.skipped()) +
                   ", records " + std::to_string(records.size());
        if (seen != std::vector<std::string>{"1000", "1000", "2000"})
            return "unexpected uids in the records";
        return "";
    });
    EXPECT_EQ(problem, "");
}

}  // namespace
}  // namespace rustyolo::net
