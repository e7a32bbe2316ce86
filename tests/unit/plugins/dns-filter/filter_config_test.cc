#include "plugins/dns-filter/filter_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <stdexcept>

namespace rustyolo::dns {
namespace {

using Args = std::vector<std::string>;

TEST(DnsFilterConfig, ParsesTheSupervisorsArguments) {
    FilterConfig config = parse_arguments({"--udp-fd", "3", "--tcp-fd", "4", "--events-fd", "5", "--ack-fd", "6",
                                           "--mode", "filter", "--upstream", "172.29.0.53:53", "--upstream",
                                           "[2001:db8::1]:5353", "--allow", "a.test=80,443", "--allow",
                                           "*.wild.test=443"});
    EXPECT_EQ(config.udp_fd, 3);
    EXPECT_EQ(config.tcp_fd, 4);
    EXPECT_EQ(config.events_fd, 5);
    EXPECT_EQ(config.ack_fd, 6);
    EXPECT_EQ(config.mode, Mode::filter);
    ASSERT_EQ(config.upstreams.size(), 2u);
    EXPECT_EQ(config.upstreams[0].address.ss_family, AF_INET);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in *>(&config.upstreams[0].address)->sin_port), 53);
    EXPECT_EQ(config.upstreams[1].address.ss_family, AF_INET6);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6 *>(&config.upstreams[1].address)->sin6_port), 5353);
    EXPECT_EQ(config.allow.match("a.test"), (std::vector<std::uint16_t>{80, 443}));
    EXPECT_EQ(config.allow.match("x.wild.test"), (std::vector<std::uint16_t>{443}));
}

TEST(DnsFilterConfig, SocketAddressesTakeDefaultPort) {
    Upstream v4 = parse_socket_address("1.1.1.1", 53);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in *>(&v4.address)->sin_port), 53);
    EXPECT_EQ(parse_socket_address("2606:4700::1111", 53).address.ss_family, AF_INET6);
    Upstream v6 = parse_socket_address("[::1]:99", 53);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6 *>(&v6.address)->sin6_port), 99);
}

TEST(DnsFilterConfig, RejectsBadArguments) {
    const std::vector<Args> bad = {
        {},                                                            // no upstream
        {"--listen", "127.0.0.1:5353"},                                // no upstream
        {"--upstream", "1.1.1.1"},                                     // no sockets
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "x.y"},       // not an address
        {"--udp-fd", "1", "--tcp-fd", "4", "--upstream", "1.1.1.1"},   // stdio fd
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1:0"}, // port 0
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1:65536"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "[::1"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1", "--mode", "open"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1", "--allow", "a.test"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1", "--allow", "a.test=0"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1", "--allow", "*=443"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1", "--events-fd", "5"},  // ack missing
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream", "1.1.1.1", "--bogus", "1"},
        {"--udp-fd", "3", "--tcp-fd", "4", "--upstream"},                                 // value missing
    };
    for (const Args &args : bad) {
        SCOPED_TRACE(testing::PrintToString(args));
        EXPECT_THROW(parse_arguments(args), std::invalid_argument);
    }
}

TEST(DnsFilterConfig, PortListsAreSortedAndUnique) {
    EXPECT_EQ(parse_port_list("443,80,443"), (std::vector<std::uint16_t>{80, 443}));
    EXPECT_THROW(parse_port_list(""), std::invalid_argument);
    EXPECT_THROW(parse_port_list("80,,443"), std::invalid_argument);
    EXPECT_THROW(parse_port_list("http"), std::invalid_argument);
}

}  // namespace
}  // namespace rustyolo::dns
