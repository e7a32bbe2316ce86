#include "plugins/dns-filter/filter_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace rustyolo::dns {
namespace {

[[noreturn]] void fail(const std::string &why) { throw std::invalid_argument(why); }

unsigned long parse_number(const std::string &option, const std::string &text, unsigned long max) {
    if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        fail(option + ": \"" + text + "\" is not a number");
    unsigned long value = std::stoul(text);
    if (value > max)
        fail(option + ": " + text + " is larger than " + std::to_string(max));
    return value;
}

int parse_fd(const std::string &option, const std::string &text) {
    auto fd = parse_number(option, text, 1023);
    if (fd < 3)
        fail(option + ": file descriptors 0 to 2 are stdio");
    return static_cast<int>(fd);
}

}  // namespace

std::vector<std::uint16_t> parse_port_list(const std::string &text) {
    std::vector<std::uint16_t> ports;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = text.find(',', start);
        std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto port = parse_number("port", part, 65535);
        if (port == 0)
            fail("port 0 is not a port");
        ports.push_back(static_cast<std::uint16_t>(port));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    return ports;
}

Upstream parse_socket_address(const std::string &text, std::uint16_t default_port) {
    std::string host = text;
    std::string port;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        std::size_t close = text.find(']');
        if (close == std::string::npos)
            fail("\"" + text + "\": '[' without ']'");
        host = text.substr(1, close - 1);
        std::string rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                fail("\"" + text + "\": only :port may follow ']'");
            port = rest.substr(1);
            has_port = true;
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
        has_port = true;
    }
    std::uint16_t number = default_port;
    if (has_port) {
        auto value = parse_number("port of \"" + text + "\"", port, 65535);
        if (value == 0)
            fail("\"" + text + "\": port 0");
        number = static_cast<std::uint16_t>(value);
    }
    Upstream upstream;
    upstream.text = text;
    auto *v4 = reinterpret_cast<sockaddr_in *>(&upstream.address);
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&upstream.address);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(number);
        upstream.length = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(number);
        upstream.length = sizeof(sockaddr_in6);
    } else {
        fail("\"" + text + "\" is not an IPv4 or IPv6 address (with an optional :port)");
    }
    return upstream;
}

FilterConfig parse_arguments(const std::vector<std::string> &arguments) {
    FilterConfig config;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string &option = arguments[i];
        if (i + 1 >= arguments.size())
            fail(option + ": a value is missing");
        const std::string &value = arguments[++i];
        if (option == "--udp-fd") {
            config.udp_fd = parse_fd(option, value);
        } else if (option == "--tcp-fd") {
            config.tcp_fd = parse_fd(option, value);
        } else if (option == "--events-fd") {
            config.events_fd = parse_fd(option, value);
        } else if (option == "--ack-fd") {
            config.ack_fd = parse_fd(option, value);
        } else if (option == "--listen") {
            parse_socket_address(value, 53);
            config.listen = value;
        } else if (option == "--mode") {
            if (value != "filter" && value != "any")
                fail("--mode: \"" + value + "\" is not filter or any");
            config.mode = value == "any" ? Mode::any : Mode::filter;
        } else if (option == "--upstream") {
            config.upstreams.push_back(parse_socket_address(value, 53));
        } else if (option == "--allow") {
            std::size_t equals = value.rfind('=');
            if (equals == std::string::npos)
                fail("--allow: \"" + value + "\" is not NAME=PORTS");
            config.allow.add(value.substr(0, equals), parse_port_list(value.substr(equals + 1)));
        } else if (option == "--timeout-ms") {
            config.timeout_ms = static_cast<unsigned>(parse_number(option, value, 60000));
        } else if (option == "--ack-timeout-ms") {
            config.ack_timeout_ms = static_cast<unsigned>(parse_number(option, value, 60000));
        } else if (option == "--ttl-cap") {
            config.ttl_cap = static_cast<std::uint32_t>(parse_number(option, value, 86400));
        } else if (option == "--report-allowed") {
            if (value != "yes" && value != "no")
                fail("--report-allowed: \"" + value + "\" is not yes or no");
            config.report_allowed = value == "yes";
        } else if (option == "--cache-entries") {
            config.cache_entries = static_cast<std::size_t>(parse_number(option, value, 1000000));
        } else {
            fail("unknown option \"" + option + "\"");
        }
    }
    if (config.upstreams.empty())
        fail("no --upstream resolver given");
    if (config.listen.empty() && (config.udp_fd < 0 || config.tcp_fd < 0))
        fail("give --udp-fd and --tcp-fd (sockets bound by the supervisor) or --listen");
    if ((config.events_fd < 0) != (config.ack_fd < 0))
        fail("--events-fd and --ack-fd go together");
    return config;
}

}  // namespace rustyolo::dns
