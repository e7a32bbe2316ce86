// The DNS filter's configuration, from its argv (it reads no file and no environment):
//
//   rustyolo-dns-filter --udp-fd 3 --tcp-fd 4 [--events-fd 5 --ack-fd 6]
//                       [--listen 127.0.0.1:5353]       bind itself instead (tests, benchmarks)
//                       [--mode filter|any]              default filter
//                       --upstream ADDR[:PORT] ...       1.1.1.1, 1.1.1.1:5353, [2606:4700::1111]:53
//                       [--allow NAME=PORTS ...]         api.example.com=443, *.example.com=80,443
//                       [--timeout-ms N]                 per upstream attempt, default 2000
//                       [--ack-timeout-ms N]             for the supervisor's ack, default 3000
//                       [--ttl-cap N]                    answer TTLs are capped at N s, default 3600
//                       [--report-allowed yes|no]        send "allow" lines (audit level verbose), default no
//                       [--cache-entries N]              answer cache size, 0 = off, default 10000
#pragma once

#include "plugins/net-common/allow_list.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::dns {

using net::AllowList;
using net::merge_ports;
using net::normalize_name;

struct Upstream {
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string text;  // as given
};

enum class Mode { filter, any };

struct FilterConfig {
    int udp_fd = -1;
    int tcp_fd = -1;
    int events_fd = -1;  // -1: answer only, feed no firewall (tests, benchmarks)
    int ack_fd = -1;
    std::string listen;  // "127.0.0.1:5353": bind these sockets instead of receiving them
    Mode mode = Mode::filter;
    std::vector<Upstream> upstreams;
    AllowList allow;
    // Ports for the addresses of a name no entry matches (only in mode any).
    std::vector<std::uint16_t> default_ports{80, 443};
    unsigned timeout_ms = 2000;
    unsigned ack_timeout_ms = 3000;
    std::uint32_t ttl_cap = 3600;
    bool report_allowed = false;
    std::size_t cache_entries = 10000;
};

// Throws std::invalid_argument naming the bad argument.
FilterConfig parse_arguments(const std::vector<std::string> &arguments);

// "1.2.3.4", "1.2.3.4:53", "2001:db8::1", "[2001:db8::1]:53" -> address (port 53 unless given).
// Throws std::invalid_argument.
Upstream parse_socket_address(const std::string &text, std::uint16_t default_port);

// "80,443" -> {80, 443}. Throws std::invalid_argument.
std::vector<std::uint16_t> parse_port_list(const std::string &text);

}  // namespace rustyolo::dns
