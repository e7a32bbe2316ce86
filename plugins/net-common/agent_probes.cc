#include "plugins/net-common/agent_probes.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

// ldns/common.h defines the macros bool, true and false in C++ unless stdbool.h says they exist;
// GCC's <stdbool.h> does, so it must come first.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): see above

#include <ldns/ldns.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

constexpr std::size_t max_probed_upstreams = 16;

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "(none)" : out;
}

std::string errno_name(int error) { return error == 0 ? "sent (not blocked)" : std::strerror(error); }

// ---- the agent-uid probes ----------------------------------------------------------------------

struct ProbeReport {
    int upstream[max_probed_upstreams] = {};  // 0: the datagram was sent; otherwise errno
    int engine = 0;
    int loopback_source = 0;                  // 0: a datagram from 127.0.0.11 to 127.0.0.1:9 was sent
    int other_class_flow = 0;                 // 0: a datagram on the supervisor's flow to the stub was sent
    int own_flow = 0;                         // 0: a datagram on a flow of the probe's own was sent
    int v6 = 0;
    int dns = 0;                              // 0: got a reply of dns_length bytes
    int dns_length = 0;
    unsigned char reply[1232] = {};
};

ProbeReport child_report;

struct Target {
    sockaddr_storage address{};
    socklen_t length = 0;
};

Target target(bool v6, const std::string &text, std::uint16_t port) {
    Target t;
    if (v6) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&t.address);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        ::inet_pton(AF_INET6, text.c_str(), &a->sin6_addr);
        t.length = sizeof(sockaddr_in6);
    } else {
        auto *a = reinterpret_cast<sockaddr_in *>(&t.address);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        ::inet_pton(AF_INET, text.c_str(), &a->sin_addr);
        t.length = sizeof(sockaddr_in);
    }
    return t;
}

// In the child: a zero-length datagram (from `from`, when given); 0 if it was sent, else errno.
// Async-signal-safe.
int send_empty(const Target &t, const Target *from = nullptr) {
    int fd = ::socket(t.address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int result = 0;
    if ((from && ::bind(fd, reinterpret_cast<const sockaddr *>(&from->address), from->length) != 0) ||
        ::connect(fd, reinterpret_cast<const sockaddr *>(&t.address), t.length) != 0 || ::send(fd, "", 0, 0) < 0)
        result = errno;
    ::close(fd);
    return result;
}

struct PacketFree {
    void operator()(ldns_pkt *p) const noexcept { ldns_pkt_free(p); }
};

std::vector<std::uint8_t> self_test_query(const std::string &probe_name) {
    ldns_rdf *name = ldns_dname_new_frm_str((probe_name + ".").c_str());
    if (!name)
        return {};
    std::unique_ptr<ldns_pkt, PacketFree> query(ldns_pkt_query_new(name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD));
    if (!query)
        return {};
    ldns_pkt_set_id(query.get(), static_cast<std::uint16_t>(::getpid() & 0xffff));
    std::uint8_t *wire = nullptr;
    std::size_t size = 0;
    if (ldns_pkt2wire(&wire, query.get(), &size) != LDNS_STATUS_OK)
        return {};
    std::vector<std::uint8_t> bytes(wire, wire + size);
    std::free(wire);
    return bytes;
}

// In the supervisor (root), before the probe process exists: a flow of root's class to the stub
// (127.0.0.1 -> 127.0.0.1:53, one zero-length datagram; the stub ignores it), whose socket is then
// closed. Returns the source it was sent from (port 0 when it could not be made: the probe then
// reports that).
Target open_root_flow_to_stub(const Target &stub) {
    Target from = target(false, "127.0.0.1", 0);
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return from;
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&from.address), from.length) == 0 &&
        ::connect(fd, reinterpret_cast<const sockaddr *>(&stub.address), stub.length) == 0 &&
        ::send(fd, "", 0, 0) == 0) {
        socklen_t length = sizeof from.address;
        if (::getsockname(fd, reinterpret_cast<sockaddr *>(&from.address), &length) != 0)
            reinterpret_cast<sockaddr_in *>(&from.address)->sin_port = 0;
    }
    ::close(fd);
    return from;
}

[[noreturn]] void run_probes(int report_fd, const LiveProbeSpec &spec, const std::vector<Target> &upstreams,
                             const Target &engine, const Target &loopback_from, const Target &loopback_to,
                             const Target &v6, const Target &stub, const Target &root_flow_from,
                             const std::vector<std::uint8_t> &query) {
    ProbeReport &report = child_report;  // static storage: no allocation after fork
    if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, spec.probe_gid, spec.probe_gid, spec.probe_gid) != 0 ||
        ::syscall(SYS_setresuid, spec.agent_uid, spec.agent_uid, spec.agent_uid) != 0)
        ::_exit(2);
    for (std::size_t i = 0; i < upstreams.size() && i < max_probed_upstreams; ++i)
        report.upstream[i] = send_empty(upstreams[i]);
    report.engine = send_empty(engine);
    report.loopback_source = send_empty(loopback_to, &loopback_from);
    // The supervisor's flow, continued from its address and port by another class (this process):
    // stopped by the flow-class rules, although the stub rule would accept the datagram. The twin:
    // the same datagram on a flow of its own is sent.
    report.other_class_flow = reinterpret_cast<const sockaddr_in *>(&root_flow_from.address)->sin_port == 0
                                  ? EADDRNOTAVAIL
                                  : send_empty(stub, &root_flow_from);
    report.own_flow = send_empty(stub);
    report.v6 = send_empty(v6);
    report.dns = ENOTCONN;
    if (spec.probe_stub && !query.empty()) {
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr *>(&stub.address), stub.length) != 0 ||
            ::send(fd, query.data(), query.size(), 0) < 0) {
            report.dns = errno;
        } else {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 3000) == 1) {
                ssize_t n = ::recv(fd, report.reply, sizeof report.reply, 0);
                report.dns = n < 0 ? errno : 0;
                report.dns_length = n < 0 ? 0 : static_cast<int>(n);
            } else {
                report.dns = ETIMEDOUT;
            }
        }
    }
    ssize_t ignored = ::write(report_fd, &report, sizeof report);
    (void)ignored;
    ::_exit(0);
}

bool blocked_here(int error, bool v6) {
    if (error == EPERM)
        return true;
    // With IPv6 switched off, nothing can be sent at all.
    return v6 && (error == ENETUNREACH || error == EADDRNOTAVAIL || error == EAFNOSUPPORT);
}

}  // namespace

std::string random_self_test_name() {
    std::uint8_t bytes[8] = {};
    std::size_t got = 0;
    while (got < sizeof bytes) {
        const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw std::runtime_error(std::string("getrandom for the self-test's DNS name: ") + std::strerror(errno));
        got += static_cast<std::size_t>(n);
    }
    std::string name = "rustyolo-self-test-";
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::uint8_t b : bytes) {
        name += kHex[b >> 4];
        name += kHex[b & 15];
    }
    return name + ".invalid";
}

std::vector<Check> agent_probe_checks(const LiveProbeSpec &spec) {
    std::vector<Check> checks;
    // The probes as the agent's uid, in a child.
    std::vector<Target> upstreams;
    for (std::size_t i = 0; i < spec.upstreams.size() && i < max_probed_upstreams; ++i)
        upstreams.push_back(target(spec.upstreams[i].v6, spec.upstreams[i].address, spec.upstreams[i].port));
    Target engine = target(false, "127.0.0.11", 53);
    Target loopback_from = target(false, "127.0.0.11", 0), loopback_to = target(false, "127.0.0.1", 9);
    Target v6 = target(true, "::1", 9);
    Target stub = target(false, "127.0.0.1", 53);
    std::vector<std::uint8_t> query = spec.probe_stub ? self_test_query(spec.stub_probe_name) : std::vector<std::uint8_t>{};
    Target root_flow_from = open_root_flow_to_stub(stub);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("self-test: pipe: ") + std::strerror(errno));
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(std::string("self-test: fork: ") + std::strerror(errno));
    if (pid == 0)
        run_probes(write_end.get(), spec, upstreams, engine, loopback_from, loopback_to, v6, stub, root_flow_from,
                   query);
    write_end.reset();
    auto report = std::make_unique<ProbeReport>();
    std::size_t got = 0;
    while (got < sizeof *report) {
        pollfd p{read_end.get(), POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1)
            break;
        ssize_t n = ::read(read_end.get(), reinterpret_cast<char *>(report.get()) + got, sizeof *report - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof *report) {
        checks.push_back(Check{"agent probes", false,
                               "the probe process (uid " + std::to_string(spec.agent_uid) + ") did not report"});
        return checks;
    }

    std::vector<std::string> upstream_problems, upstream_ok;
    for (std::size_t i = 0; i < upstreams.size(); ++i) {
        const Resolver &r = spec.upstreams[i];
        std::string where = (r.v6 ? "[" + r.address + "]" : r.address) + ":" + std::to_string(r.port);
        if (blocked_here(report->upstream[i], r.v6))
            upstream_ok.push_back(where);
        else
            upstream_problems.push_back(where + ": " + errno_name(report->upstream[i]));
    }
    bool engine_ok = blocked_here(report->engine, false);
    if (!engine_ok)
        upstream_problems.push_back("127.0.0.11:53: " + errno_name(report->engine));
    checks.push_back(Check{"agent cannot reach resolvers", upstream_problems.empty(),
                           upstream_problems.empty()
                               ? "uid " + std::to_string(spec.agent_uid) + " -> " + join(upstream_ok) +
                                     ", 127.0.0.11:53: EPERM from the firewall"
                               : "uid " + std::to_string(spec.agent_uid) + " was not stopped by the firewall: " +
                                     join(upstream_problems)});

    bool loopback_ok = report->loopback_source == EPERM;
    checks.push_back(Check{"agent sends on loopback from 127.0.0.1 only", loopback_ok,
                           loopback_ok ? "uid " + std::to_string(spec.agent_uid) +
                                             " 127.0.0.11 -> 127.0.0.1:9: EPERM from the firewall"
                                       : "a datagram from 127.0.0.11 to 127.0.0.1:9 was not stopped: " +
                                             errno_name(report->loopback_source)});

    const int root_port = ntohs(reinterpret_cast<const sockaddr_in *>(&root_flow_from.address)->sin_port);
    bool flow_class_ok = report->other_class_flow == EPERM && report->own_flow == 0;
    checks.push_back(Check{
        "flows keep their class", flow_class_ok,
        flow_class_ok
            ? "a flow root opened to the stub (127.0.0.1:" + std::to_string(root_port) +
                  " -> 127.0.0.1:53), continued by uid " + std::to_string(spec.agent_uid) +
                  ": EPERM from the firewall; the same datagram on the probe's own flow is sent"
            : "uid " + std::to_string(spec.agent_uid) + " on root's flow from 127.0.0.1:" + std::to_string(root_port) +
                  " to the stub: " + errno_name(report->other_class_flow) + " (expected EPERM); on its own flow: " +
                  errno_name(report->own_flow) + " (expected sent)"});

    bool v6_ok = blocked_here(report->v6, true);
    checks.push_back(Check{"ipv6 closed", v6_ok,
                           v6_ok ? (report->v6 == EPERM ? "IPv6 send to [::1]:9 stopped by the firewall (EPERM)"
                                                        : std::string("IPv6 is off (") + std::strerror(report->v6) +
                                                              "); the inet table covers it anyway")
                                 : "an IPv6 datagram to [::1]:9 was not stopped: " + errno_name(report->v6)});

    if (spec.probe_stub) {
        bool refused = false;
        std::string detail;
        if (report->dns != 0) {
            detail = std::string("no reply from the stub on 127.0.0.1:53: ") + std::strerror(report->dns);
        } else {
            ldns_pkt *raw = nullptr;
            if (ldns_wire2pkt(&raw, report->reply, static_cast<std::size_t>(report->dns_length)) == LDNS_STATUS_OK) {
                std::unique_ptr<ldns_pkt, PacketFree> reply(raw);
                // A name that is not allowed does not exist for the agent (NXDOMAIN, the filter's
                // own answer: AA set).
                refused = ldns_pkt_get_rcode(raw) == LDNS_RCODE_NXDOMAIN && ldns_pkt_aa(raw);
                detail = refused ? "the stub answers the agent and refuses a name that is not allowed (NXDOMAIN)"
                                 : "the stub did not refuse " + spec.stub_probe_name + " with NXDOMAIN (rcode " +
                                       std::to_string(ldns_pkt_get_rcode(raw)) + ")";
            } else {
                detail = "the stub's reply is not a DNS message";
            }
        }
        checks.push_back(Check{"stub resolver", refused, detail});
    }
    return checks;
}

json::value checks_to_json(const std::vector<Check> &checks) {
    json::array out;
    for (const Check &check : checks)
        out.push_back(json::object{{"name", check.name}, {"ok", check.ok}, {"detail", check.detail}});
    return json::object{{"checks", std::move(out)}};
}

json::value require_passed(const std::vector<Check> &checks) {
    std::string failed;
    for (const Check &check : checks)
        if (!check.ok)
            failed += (failed.empty() ? "" : "; ") + check.name + ": " + check.detail;
    if (!failed.empty())
        throw std::runtime_error("network self-test failed (the agent is not started): " + failed);
    return checks_to_json(checks);
}

}  // namespace rustyolo::net
