// The DNS filter's event loop: one thread, poll(), no blocking call except writes to the events pipe.
//
//   client (UDP/TCP on 127.0.0.1:53)
//     -> parse (ldns) -> refuse (blocked_answer.hpp: NXDOMAIN for a name, NODATA for a type, with an
//        Extended DNS Error saying why; + "deny" event) unless the name and type are allowed
//        ("allow" event with --report-allowed yes)
//     -> answer from the cache (answer_cache.hpp) if it holds a fresh answer
//     -> fresh query to the first upstream (UDP, or TCP for TCP clients and truncated answers;
//        the next upstream on timeout, SERVFAIL or REFUSED)
//     -> addresses of the answer's CNAME chain, with the name's ports, to the supervisor as one
//        batch; wait for its ack — unless every one of them is already in the sets, confirmed by
//        an earlier ack, for longer than the answer lives plus a margin
//     -> reply to the client (SERVFAIL if the ack says fail or does not come in time), and cache it
//
// Upstream UDP sockets are reused: a connected socket goes back to a small pool after a matching
// reply and serves at most 100 queries or 60 s, then it is closed and the next one gets a new
// source port. Each query still has a fresh random id (16 bits), and the kernel picks each socket's
// source port at random from the ephemeral range, so a blind spoofer must still guess both; only
// consecutive queries on one socket share a port. Sockets whose query failed or timed out are never
// reused. TCP upstream connections are one per query.
#pragma once

#include "plugins/dns-filter/answer_cache.hpp"
#include "plugins/dns-filter/dns_message.hpp"
#include "plugins/net-common/feed_protocol.hpp"
#include "plugins/dns-filter/filter_config.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

struct pollfd;

namespace rustyolo::dns {

// The line protocol to the supervisor (net-common: the firewalls read what this side writes).
namespace feed = net::feed;

// What the filter does with a client's query before the cache and the upstream: answer NOTIMP (not
// a standard query), FORMERR (not exactly one question), refuse it (REFUSED and a "deny" event for
// `reason`), or forward it, opening its answer's addresses for `ports`.
struct QueryDecision {
    enum class Action { notimpl, formerr, refuse, forward };
    Action action = Action::refuse;
    feed::DenyReason reason = feed::DenyReason::name;
    std::vector<std::uint16_t> ports;
};
QueryDecision decide_query(const ClientQuery &query, const FilterConfig &config);

class Server {
public:
    explicit Server(FilterConfig config);
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;
    ~Server();

    // Serves until the supervisor closes the ack pipe (returns 0) or the events pipe breaks
    // (throws). Without pipes (tests, benchmarks) it serves forever.
    int run();

private:
    using Clock = std::chrono::steady_clock;

    struct Client {
        bool tcp = false;
        sockaddr_storage address{};  // UDP client
        socklen_t length = 0;
        std::uint64_t connection = 0;  // TCP client
    };

    enum class State { udp_waiting, tcp_connecting, tcp_sending, tcp_receiving, awaiting_ack };

    struct Transaction {
        std::uint32_t id = 0;
        Client client;
        ClientQuery query;
        std::vector<std::uint16_t> ports;
        std::size_t upstream = 0;  // index into config_.upstreams
        bool over_tcp = false;
        int fd = -1;
        unsigned socket_uses = 0;         // queries this UDP socket has carried, this one included
        Clock::time_point socket_opened;
        std::uint16_t upstream_id = 0;
        Bytes out;                 // the upstream query (length-prefixed over TCP)
        std::size_t sent = 0;
        Bytes in;                  // the TCP reply as it arrives
        State state = State::udp_waiting;
        Clock::time_point deadline;
        Bytes reply;               // the client's reply while waiting for the ack
        Packet reply_packet;       // the same, for the cache
        std::vector<ChainAddress> addresses;  // fed to the supervisor in this batch
        Clock::time_point answered;           // when the upstream answered
        Clock::time_point fed;                // when the batch was written
        std::uint64_t narrowings = 0;         // narrowing live changes before the batch was written
    };

    struct PooledSocket {
        int fd = -1;
        unsigned uses = 0;
        Clock::time_point opened;
    };

    struct Connection {
        int fd = -1;
        Bytes in;
        Bytes out;
        std::size_t sent = 0;
        bool busy = false;         // a query of this connection is in flight
        Clock::time_point deadline;
    };

    enum class Source { udp_listener, tcp_listener, ack_pipe, transaction, connection };
    struct Watch {
        Source source;
        std::uint64_t key;
    };

    void handle_query(const std::uint8_t *data, std::size_t size, const Client &client);
    void refuse(const ClientQuery &query, const Client &client, feed::DenyReason reason);
    void report_allowed(const ClientQuery &query, const Client &client);
    void release_upstream(Transaction &tx);  // after a matching UDP reply: back to the pool
    // The time until which every address of `tx` (with its ports) is confirmed in the sets, or
    // nullopt if one is not known to stay long enough for the answer.
    std::optional<Clock::time_point> known_in_sets(const Transaction &tx, Clock::time_point now) const;
    void record_in_sets(const Transaction &tx, Clock::time_point until);
    void answer_and_cache(Transaction &tx, std::optional<Clock::time_point> limit);
    void start_attempt(Transaction &tx);
    bool next_upstream(Transaction &tx);
    void finish(std::uint32_t id, Packet reply);
    // The query of `tx` judged by the policy in force now: the reason to refuse it, or nullopt
    // (its ports are then narrowed to those the policy still opens).
    std::optional<feed::DenyReason> judge_again(Transaction &tx) const;
    // An upstream's answer (UDP or TCP): SERVFAIL or REFUSED tries the next upstream while there
    // is one; anything else finishes the transaction.
    void take_answer(std::uint32_t id, Transaction &tx, Packet reply);
    void fail_transaction(std::uint32_t id);
    void close_upstream(Transaction &tx);
    void send_reply(const Client &client, const Bytes &reply);

    void on_udp_listener();
    void on_tcp_listener();
    bool on_ack_pipe();  // false when the supervisor closed it
    // A live change from the supervisor (feed_protocol.hpp, "policy"): applied, then answered.
    void change_policy(const feed::PolicyChange &change);
    void on_transaction(std::uint32_t id, short revents);
    void on_connection(std::uint64_t key, short revents);
    void expire(Clock::time_point now);

    void emit(const std::string &line);
    std::uint16_t random_id();

    FilterConfig config_;
    AllowList start_allow_;  // the entries of the command line; config_.allow adds the live ones
    std::map<std::string, std::vector<std::uint16_t>> live_;  // live entry -> its ports
    std::uint64_t narrowings_ = 0;  // live changes that narrowed the policy, so far
    std::map<std::uint32_t, Transaction> transactions_;
    std::map<std::uint64_t, Connection> connections_;
    std::uint32_t next_id_ = 1;
    std::uint64_t next_connection_ = 1;
    feed::LineSplitter acks_;
    AnswerCache cache_;
    std::vector<std::vector<PooledSocket>> idle_;  // per upstream
    // (v6, address, port) -> until when an ack guaranteed it in the sets (minus nothing; see .cc)
    std::map<std::tuple<bool, std::string, std::uint16_t>, Clock::time_point> in_sets_;
    std::size_t prune_in_sets_at_ = 4096;
};

}  // namespace rustyolo::dns
