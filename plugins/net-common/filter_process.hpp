// Starting the DNS filter with privilege separation.
//
// The supervisor (root, NET_BIND_SERVICE) binds the stub's UDP and TCP sockets on 127.0.0.1:53
// itself and hands them over as fds 3 and 4, so the filter needs no capability at all and no nft
// redirect is involved. The supervisor keeps its own reference to both sockets for the whole
// session: if the filter dies, port 53 stays taken and DNS fails closed (nobody else can bind it).
//
// The filter is started through the project's process runner (<rustyolo/sdk/process.hpp>,
// sdk::spawn), which sets the child up between fork and exec with async-signal-safe calls only:
//   fds 0,1 -> /dev/null, 2 stays (the supervisor's stderr), 3 UDP, 4 TCP, 5 events pipe (write
//   end), 6 ack socket (read end); every other fd closed; signal dispositions default and the
//   mask empty; its own session; then (filter_process.cc's child set-up) no supplementary
//   groups, gid then uid 65533 (real, effective, saved), bounding set dropped (when CAP_SETPCAP
//   is held), inheritable and ambient sets cleared, permitted and effective emptied by leaving
//   uid 0; then no_new_privs, and execve of the absolute path with an argv vector (never a
//   shell) and an empty environment.
// A failure before exec is reported back over a close-on-exec pipe, naming the step and errno.
// The pid is released to the supervisor, which reaps it.
#pragma once

#include <rustyolo/sdk/unique_fd.hpp>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rustyolo::net {

struct StubSockets {
    UniqueFd udp;
    UniqueFd tcp;
};

// Binds 127.0.0.1:53 (UDP, and TCP listening). Throws std::runtime_error naming the socket and errno.
StubSockets bind_stub_sockets();

struct FilterProcess {
    pid_t pid = -1;
    UniqueFd events;  // the supervisor reads the filter's lines here
    UniqueFd acks;    // and writes its acks here (a socket: writes never raise SIGPIPE)
};

struct FilterCommand {
    std::string executable;               // absolute path
    std::vector<std::string> arguments;   // after argv[0]; the fd numbers are 3..6 as above
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
};

// Fixed descriptor numbers in the filter.
inline constexpr int filter_udp_fd = 3;
inline constexpr int filter_tcp_fd = 4;
inline constexpr int filter_events_fd = 5;
inline constexpr int filter_ack_fd = 6;

// Starts the filter. Throws std::runtime_error naming the step that failed and errno.
FilterProcess start_filter(const FilterCommand &command, const StubSockets &sockets);

// <dir>/plugins/<this plugin>.so -> <dir>/rustyolo-dns-filter (the install layout, and the build
// tree's). Throws std::runtime_error if the plugin's own path cannot be found.
std::string default_dns_filter_path();

// Kills and reaps a filter that did not come up.
void kill_filter(pid_t pid);

}  // namespace rustyolo::net
