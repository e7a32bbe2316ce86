#include "plugins/dns-filter/server.hpp"

#include "plugins/dns-filter/blocked_answer.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rustyolo::dns {
namespace {

constexpr std::size_t max_transactions = 512;
constexpr std::size_t max_connections = 64;
constexpr std::size_t max_datagrams_per_wakeup = 64;
constexpr auto tcp_idle = std::chrono::seconds(10);
// A TCP client's replies waiting to be sent: above this, its further queries are not read until
// it reads (a client that pipelines queries and never reads cannot grow the filter's memory).
constexpr std::size_t max_pending_replies = 64 * 1024;
constexpr std::size_t max_message = 65535;
constexpr unsigned max_socket_uses = 100;
constexpr auto max_socket_age = std::chrono::seconds(60);
constexpr std::size_t max_idle_sockets = 64;  // per upstream
// An answer is served without a feed round trip (and kept in the cache) only while its addresses
// stay in the sets at least this much longer than the answer lives.
constexpr auto set_margin = std::chrono::seconds(5);

bool allowed_type(std::uint16_t qtype) {
    return qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA || qtype == LDNS_RR_TYPE_CNAME;
}

void close_fd(int &fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

Bytes with_length_prefix(const Bytes &message) {
    Bytes out;
    out.reserve(message.size() + 2);
    out.push_back(static_cast<std::uint8_t>(message.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(message.size() & 0xff));
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

// The length of the first length-prefixed message in `buffer`, once it is complete.
std::optional<std::size_t> complete_message(const Bytes &buffer) {
    if (buffer.size() < 2)
        return std::nullopt;
    std::size_t length = (static_cast<std::size_t>(buffer[0]) << 8) | buffer[1];
    if (buffer.size() < 2 + length)
        return std::nullopt;
    return length;
}

}  // namespace

Server::Server(FilterConfig config)
    : config_(std::move(config)), start_allow_(config_.allow), cache_(AnswerCache::Limits{config_.cache_entries, AnswerCache::Limits{}.bytes}),
      idle_(config_.upstreams.size()) {}

Server::~Server() {
    for (auto &[id, tx] : transactions_)
        close_fd(tx.fd);
    for (auto &pool : idle_)
        for (PooledSocket &socket : pool)
            close_fd(socket.fd);
    for (auto &[key, connection] : connections_)
        close_fd(connection.fd);
}

std::uint16_t Server::random_id() {
    std::uint16_t id = 0;
    while (::getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
        if (errno != EINTR)
            throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    return id;
}

void Server::emit(const std::string &line) {
    if (config_.events_fd < 0)
        return;
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(config_.events_fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw std::runtime_error(std::string("events pipe to the supervisor: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

void Server::send_reply(const Client &client, const Bytes &reply) {
    if (reply.empty())
        return;
    if (!client.tcp) {
        ::sendto(config_.udp_fd, reply.data(), reply.size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr *>(&client.address), client.length);
        return;
    }
    auto it = connections_.find(client.connection);
    if (it == connections_.end())
        return;  // the client went away
    Bytes framed = with_length_prefix(reply);
    it->second.out.insert(it->second.out.end(), framed.begin(), framed.end());
    it->second.busy = false;
    it->second.deadline = Clock::now() + tcp_idle;
}

void Server::refuse(const ClientQuery &query, const Client &client, feed::DenyReason reason) {
    emit(feed::format_deny(type_name(query.qtype), query.qtype, client.tcp, reason, query.name.text));
    BlockedAnswer answer = blocked_answer(query, reason);
    std::size_t limit = client.tcp ? max_message : query.max_udp_reply;
    send_reply(client, build_blocked_reply(query, answer.rcode, answer.text, answer.short_text, limit));
}

void Server::report_allowed(const ClientQuery &query, const Client &client) {
    if (config_.report_allowed)
        emit(feed::format_allow(type_name(query.qtype), query.qtype, client.tcp, query.name.text));
}

QueryDecision decide_query(const ClientQuery &query, const FilterConfig &config) {
    QueryDecision decision;
    if (!query.opcode_query) {
        decision.action = QueryDecision::Action::notimpl;
        return decision;
    }
    if (!query.single_question) {
        decision.action = QueryDecision::Action::formerr;
        return decision;
    }
    if (query.qclass != LDNS_RR_CLASS_IN) {
        decision.reason = feed::DenyReason::qclass;
        return decision;
    }
    std::optional<std::vector<std::uint16_t>> ports;
    if (query.name.plain)
        ports = config.allow.match(query.name.text);
    if (config.mode == Mode::filter) {
        if (!ports || !allowed_type(query.qtype)) {
            decision.reason = ports ? feed::DenyReason::type : feed::DenyReason::name;
            return decision;
        }
    } else if (!ports) {
        ports = config.default_ports;
    }
    decision.action = QueryDecision::Action::forward;
    decision.ports = std::move(*ports);
    return decision;
}

void Server::handle_query(const std::uint8_t *data, std::size_t size, const Client &client) {
    std::optional<ClientQuery> query = parse_client_query(data, size);
    if (!query) {
        if (client.tcp)
            if (auto it = connections_.find(client.connection); it != connections_.end())
                it->second.busy = false;
        return;  // not a DNS query: no reply, nothing reflected
    }
    QueryDecision decision = decide_query(*query, config_);
    switch (decision.action) {
    case QueryDecision::Action::notimpl:
        send_reply(client, build_error_reply(*query, LDNS_RCODE_NOTIMPL));
        return;
    case QueryDecision::Action::formerr:
        send_reply(client, build_error_reply(*query, LDNS_RCODE_FORMERR));
        return;
    case QueryDecision::Action::refuse:
        refuse(*query, client, decision.reason);
        return;
    case QueryDecision::Action::forward:
        break;
    }
    report_allowed(*query, client);
    std::size_t limit = client.tcp ? max_message : query->max_udp_reply;
    if (std::optional<Bytes> cached = cache_.lookup(*query, limit, Clock::now())) {
        send_reply(client, *cached);
        return;
    }
    if (transactions_.size() >= max_transactions) {
        send_reply(client, build_error_reply(*query, LDNS_RCODE_SERVFAIL));
        return;
    }
    std::uint32_t id = next_id_++;
    Transaction &tx = transactions_[id];
    tx.id = id;
    tx.client = client;
    tx.query = std::move(*query);
    tx.ports = std::move(decision.ports);
    tx.over_tcp = client.tcp;
    start_attempt(tx);
}

void Server::close_upstream(Transaction &tx) { close_fd(tx.fd); }

void Server::release_upstream(Transaction &tx) {
    if (tx.fd < 0)
        return;
    auto &pool = idle_[tx.upstream];
    if (tx.over_tcp || tx.socket_uses >= max_socket_uses || Clock::now() - tx.socket_opened >= max_socket_age ||
        pool.size() >= max_idle_sockets) {
        close_fd(tx.fd);
        return;
    }
    pool.push_back(PooledSocket{tx.fd, tx.socket_uses, tx.socket_opened});
    tx.fd = -1;
}

std::optional<Server::Clock::time_point> Server::known_in_sets(const Transaction &tx, Clock::time_point now) const {
    std::optional<Clock::time_point> until;
    for (const ChainAddress &address : tx.addresses) {
        auto wanted = now + std::chrono::seconds(std::min(address.ttl, config_.ttl_cap)) + set_margin;
        for (std::uint16_t port : tx.ports) {
            auto it = in_sets_.find({address.v6, address.address, port});
            if (it == in_sets_.end() || it->second < wanted)
                return std::nullopt;
            until = until ? std::min(*until, it->second) : it->second;
        }
    }
    return until;
}

void Server::record_in_sets(const Transaction &tx, Clock::time_point until) {
    for (const ChainAddress &address : tx.addresses)
        for (std::uint16_t port : tx.ports) {
            auto &known = in_sets_[{address.v6, address.address, port}];
            known = std::max(known, until);
        }
    if (in_sets_.size() > prune_in_sets_at_) {
        auto now = Clock::now();
        std::erase_if(in_sets_, [now](const auto &entry) { return entry.second <= now; });
        prune_in_sets_at_ = std::max<std::size_t>(4096, 2 * in_sets_.size());
    }
}

// Replies to the client and keeps the answer in the cache until `limit` (nullopt: do not cache).
void Server::answer_and_cache(Transaction &tx, std::optional<Clock::time_point> limit) {
    send_reply(tx.client, tx.reply);
    if (limit)
        cache_.insert(tx.query, std::move(tx.reply_packet), tx.answered, *limit - set_margin);
}

void Server::start_attempt(Transaction &tx) {
    close_upstream(tx);
    while (tx.upstream < config_.upstreams.size()) {
        const Upstream &upstream = config_.upstreams[tx.upstream];
        tx.upstream_id = random_id();
        Bytes query = build_upstream_query(tx.query, tx.upstream_id);
        tx.in.clear();
        tx.sent = 0;
        tx.deadline = Clock::now() + std::chrono::milliseconds(config_.timeout_ms);
        Clock::time_point now = Clock::now();
        int rc = -1;
        bool pooled = false;
        auto &pool = idle_[tx.upstream];
        while (!tx.over_tcp && !pool.empty() && tx.fd < 0) {
            PooledSocket socket = pool.back();
            pool.pop_back();
            if (now - socket.opened >= max_socket_age) {
                close_fd(socket.fd);
                continue;
            }
            tx.fd = socket.fd;
            tx.socket_uses = socket.uses + 1;
            tx.socket_opened = socket.opened;
            rc = 0;
            pooled = true;
        }
        if (tx.fd < 0) {
            int type = (tx.over_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
            tx.fd = ::socket(upstream.address.ss_family, type, 0);
            tx.socket_uses = 1;
            tx.socket_opened = now;
            if (tx.fd >= 0)
                rc = ::connect(tx.fd, reinterpret_cast<const sockaddr *>(&upstream.address), upstream.length);
        }
        if (tx.fd >= 0 && !query.empty()) {
            if (!tx.over_tcp && rc == 0) {
                if (::send(tx.fd, query.data(), query.size(), MSG_DONTWAIT) == static_cast<ssize_t>(query.size())) {
                    tx.state = State::udp_waiting;
                    return;
                }
            } else if (tx.over_tcp && (rc == 0 || errno == EINPROGRESS)) {
                tx.out = with_length_prefix(query);
                tx.state = State::tcp_connecting;
                return;
            }
        }
        close_upstream(tx);
        if (pooled)
            continue;  // e.g. an error left on a reused socket: the same upstream, another socket
        // This upstream cannot be reached right now: try the next one.
        ++tx.upstream;
        tx.over_tcp = tx.client.tcp;
    }
    fail_transaction(tx.id);
}

bool Server::next_upstream(Transaction &tx) {
    close_upstream(tx);
    if (tx.upstream + 1 >= config_.upstreams.size())
        return false;
    ++tx.upstream;
    tx.over_tcp = tx.client.tcp;
    start_attempt(tx);
    return true;
}

void Server::fail_transaction(std::uint32_t id) {
    auto it = transactions_.find(id);
    if (it == transactions_.end())
        return;
    close_upstream(it->second);
    send_reply(it->second.client, build_error_reply(it->second.query, LDNS_RCODE_SERVFAIL));
    transactions_.erase(it);
}

std::optional<feed::DenyReason> Server::judge_again(Transaction &tx) const {
    QueryDecision now = decide_query(tx.query, config_);
    if (now.action != QueryDecision::Action::forward)
        return now.action == QueryDecision::Action::refuse ? now.reason : feed::DenyReason::name;
    std::vector<std::uint16_t> kept;
    for (std::uint16_t port : tx.ports)
        if (std::find(now.ports.begin(), now.ports.end(), port) != now.ports.end())
            kept.push_back(port);
    if (kept.empty())
        return feed::DenyReason::name;
    tx.ports = std::move(kept);
    return std::nullopt;
}

void Server::finish(std::uint32_t id, Packet reply) {
    auto it = transactions_.find(id);
    if (it == transactions_.end())
        return;
    Transaction &tx = it->second;
    release_upstream(tx);
    // A live change may have narrowed the policy while the upstream answered (a deny confirmed
    // with "policy <seq> done" after this query was forwarded): the query is judged again, so
    // that nothing the deny took back is answered or fed to the firewall after it.
    if (std::optional<feed::DenyReason> reason = judge_again(tx)) {
        refuse(tx.query, tx.client, *reason);
        transactions_.erase(it);
        return;
    }
    tx.answered = Clock::now();
    std::size_t limit = tx.client.tcp ? max_message : tx.query.max_udp_reply;
    tx.reply_packet = build_client_reply_packet(tx.query, reply.get(), config_.ttl_cap);
    tx.reply = client_reply_wire(tx.query, tx.reply_packet.get(), limit);
    tx.addresses = chain_addresses(reply.get(), ldns_rr_owner(tx.query.question()));
    if (tx.addresses.empty()) {
        // Nothing for the firewall (an error, NODATA, a CNAME without addresses): not cached.
        answer_and_cache(tx, std::nullopt);
        transactions_.erase(it);
        return;
    }
    if (config_.events_fd < 0) {
        // No firewall to feed (tests, benchmarks): cached for the answer's TTL.
        answer_and_cache(tx, Clock::time_point::max() - std::chrono::hours(24));
        transactions_.erase(it);
        return;
    }
    if (tx.addresses.size() > feed::max_addresses_per_batch)
        tx.addresses.resize(feed::max_addresses_per_batch);
    if (auto until = known_in_sets(tx, tx.answered)) {
        // Every address is in the sets for longer than this answer lives: no round trip.
        answer_and_cache(tx, until);
        transactions_.erase(it);
        return;
    }
    std::string batch;
    for (const ChainAddress &address : tx.addresses)
        batch += feed::format_address(tx.id, feed::AnswerAddress{address.v6, address.address, address.ttl, tx.ports});
    batch += feed::format_end(tx.id, tx.query.name.text);
    tx.state = State::awaiting_ack;
    tx.fed = Clock::now();
    tx.narrowings = narrowings_;
    tx.deadline = tx.fed + std::chrono::milliseconds(config_.ack_timeout_ms);
    emit(batch);
}

void Server::on_udp_listener() {
    std::array<std::uint8_t, max_message> buffer;
    for (std::size_t i = 0; i < max_datagrams_per_wakeup && transactions_.size() < max_transactions; ++i) {
        Client client;
        client.length = sizeof client.address;
        ssize_t n = ::recvfrom(config_.udp_fd, buffer.data(), buffer.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr *>(&client.address), &client.length);
        if (n < 0)
            return;
        handle_query(buffer.data(), static_cast<std::size_t>(n), client);
    }
}

void Server::on_tcp_listener() {
    while (connections_.size() < max_connections) {
        int fd = ::accept4(config_.tcp_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        Connection &connection = connections_[next_connection_++];
        connection.fd = fd;
        connection.deadline = Clock::now() + tcp_idle;
    }
}

bool Server::on_ack_pipe() {
    std::array<char, 4096> buffer;
    ssize_t n = ::read(config_.ack_fd, buffer.data(), buffer.size());
    if (n == 0)
        return false;
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    acks_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    while (auto item = acks_.next()) {
        if (!item->overlong)
            if (std::optional<feed::PolicyChange> change = feed::parse_policy(item->line)) {
                change_policy(*change);
                continue;
            }
        std::optional<feed::Ack> ack = item->overlong ? std::nullopt : feed::parse_ack(item->line);
        if (!ack)
            continue;
        auto it = transactions_.find(ack->id);
        if (it == transactions_.end() || it->second.state != State::awaiting_ack)
            continue;
        if (ack->ok) {
            Transaction &tx = it->second;
            if (tx.narrowings != narrowings_) {
                // The policy narrowed after the batch was fed: the supervisor has since taken out
                // of the sets what the change denies. The query is judged again, and what the
                // batch added is not remembered as being in the sets.
                if (std::optional<feed::DenyReason> reason = judge_again(tx)) {
                    refuse(tx.query, tx.client, *reason);
                } else {
                    answer_and_cache(tx, std::nullopt);
                }
                transactions_.erase(it);
                continue;
            }
            std::optional<Clock::time_point> until;
            if (ack->life > 0) {
                // The supervisor counted the life from after it read the batch, so from tx.fed
                // it is a lower bound.
                until = tx.fed + std::chrono::seconds(ack->life);
                record_in_sets(tx, *until);
            }
            answer_and_cache(tx, until);
            transactions_.erase(it);
        } else {
            fail_transaction(ack->id);
        }
    }
    return true;
}

void Server::change_policy(const feed::PolicyChange &change) {
    auto old = live_.find(change.entry);
    const bool narrows = old != live_.end() && merge_ports(old->second, change.ports) != change.ports;
    AllowList next = start_allow_;
    if (!change.ports.empty())
        next.add(change.entry, change.ports);  // throws for an entry that is no name: the filter ends
    for (const auto &[entry, ports] : live_)
        if (entry != change.entry)
            next.add(entry, ports);
    if (change.ports.empty())
        live_.erase(change.entry);
    else
        live_[change.entry] = change.ports;
    config_.allow = std::move(next);
    if (narrows) {
        // Answers and set knowledge of the old policy must not outlive it: the supervisor removes
        // addresses from the sets once this change is answered.
        cache_.clear();
        in_sets_.clear();
        ++narrowings_;
    }
    emit(feed::format_policy_done(change.seq));
}

void Server::on_transaction(std::uint32_t id, short revents) {
    auto it = transactions_.find(id);
    if (it == transactions_.end())
        return;
    Transaction &tx = it->second;
    if (tx.state == State::udp_waiting) {
        std::array<std::uint8_t, max_message> buffer;
        while (true) {
            ssize_t n = ::recv(tx.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return;
                if (!next_upstream(tx))  // e.g. ECONNREFUSED: nothing listens there
                    fail_transaction(id);
                return;
            }
            std::optional<Packet> reply =
                parse_upstream_reply(buffer.data(), static_cast<std::size_t>(n), tx.upstream_id, tx.query);
            if (!reply)
                continue;  // not the answer to our question: keep waiting
            if (ldns_pkt_tc(reply->get())) {
                tx.over_tcp = true;  // same upstream, over TCP
                start_attempt(tx);
                return;
            }
            take_answer(id, tx, std::move(*reply));
            return;
        }
    }
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
        if (tx.state == State::tcp_connecting || tx.state == State::tcp_sending || !(revents & POLLIN)) {
            if (!next_upstream(tx))
                fail_transaction(id);
            return;
        }
    }
    if (tx.state == State::tcp_connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(tx.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
            if (!next_upstream(tx))
                fail_transaction(id);
            return;
        }
        tx.state = State::tcp_sending;
    }
    if (tx.state == State::tcp_sending) {
        ssize_t n = ::send(tx.fd, tx.out.data() + tx.sent, tx.out.size() - tx.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            if (!next_upstream(tx))
                fail_transaction(id);
            return;
        }
        tx.sent += static_cast<std::size_t>(n);
        if (tx.sent == tx.out.size())
            tx.state = State::tcp_receiving;
        return;
    }
    if (tx.state == State::tcp_receiving) {
        std::array<std::uint8_t, 16384> buffer;
        ssize_t n = ::recv(tx.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            if (!next_upstream(tx))
                fail_transaction(id);
            return;
        }
        tx.in.insert(tx.in.end(), buffer.begin(), buffer.begin() + n);
        auto length = complete_message(tx.in);
        if (!length)
            return;
        std::optional<Packet> reply = parse_upstream_reply(tx.in.data() + 2, *length, tx.upstream_id, tx.query);
        if (!reply) {
            if (!next_upstream(tx))
                fail_transaction(id);
            return;
        }
        take_answer(id, tx, std::move(*reply));
    }
}

void Server::take_answer(std::uint32_t id, Transaction &tx, Packet reply) {
    const ldns_pkt_rcode rcode = ldns_pkt_get_rcode(reply.get());
    if ((rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED) && next_upstream(tx))
        return;
    finish(id, std::move(reply));
}

void Server::on_connection(std::uint64_t key, short revents) {
    auto it = connections_.find(key);
    if (it == connections_.end())
        return;
    Connection &connection = it->second;
    // Reset or shut down both ways (also while its query is in flight): no reply can reach it.
    if (revents & (POLLHUP | POLLERR)) {
        close_fd(connection.fd);
        connections_.erase(it);
        return;
    }
    if (revents & POLLOUT && connection.sent < connection.out.size()) {
        ssize_t n = ::send(connection.fd, connection.out.data() + connection.sent,
                           connection.out.size() - connection.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            close_fd(connection.fd);
            connections_.erase(it);
            return;
        }
        if (n > 0) {
            connection.sent += static_cast<std::size_t>(n);
            connection.deadline = Clock::now() + tcp_idle;
        }
        if (connection.sent == connection.out.size()) {
            connection.out.clear();
            connection.sent = 0;
        }
    }
    const auto pending = [&connection] { return connection.out.size() - connection.sent; };
    if ((revents & POLLIN) && !connection.busy && pending() < max_pending_replies) {
        std::array<std::uint8_t, 16384> buffer;
        ssize_t n = ::recv(connection.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            close_fd(connection.fd);
            connections_.erase(it);
            return;
        }
        if (n > 0) {
            connection.in.insert(connection.in.end(), buffer.begin(), buffer.begin() + n);
            connection.deadline = Clock::now() + tcp_idle;
        }
    }
    // One query at a time per connection; the next one is read after its reply.
    while (!connection.busy && pending() < max_pending_replies) {
        auto length = complete_message(connection.in);
        if (!length)
            break;
        {
            Bytes message(connection.in.begin() + 2, connection.in.begin() + 2 + static_cast<std::ptrdiff_t>(*length));
            connection.in.erase(connection.in.begin(), connection.in.begin() + 2 + static_cast<std::ptrdiff_t>(*length));
            connection.busy = true;
            Client client;
            client.tcp = true;
            client.connection = key;
            handle_query(message.data(), message.size(), client);
        }
    }
}

void Server::expire(Clock::time_point now) {
    std::vector<std::uint32_t> late;
    for (auto &[id, tx] : transactions_)
        if (tx.deadline <= now)
            late.push_back(id);
    for (std::uint32_t id : late) {
        auto it = transactions_.find(id);
        if (it == transactions_.end())
            continue;
        if (it->second.state == State::awaiting_ack || !next_upstream(it->second))
            fail_transaction(id);
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
        // Idle for tcp_idle: no query, and no reply taken (a client that does not read is dropped).
        if (!it->second.busy && it->second.deadline <= now) {
            close_fd(it->second.fd);
            it = connections_.erase(it);
        } else {
            ++it;
        }
    }
}

int Server::run() {
    emit(feed::format_ready());
    std::vector<pollfd> fds;
    std::vector<Watch> watches;
    while (true) {
        fds.clear();
        watches.clear();
        auto watch = [&](int fd, short events, Source source, std::uint64_t key) {
            fds.push_back(pollfd{fd, events, 0});
            watches.push_back(Watch{source, key});
        };
        if (transactions_.size() < max_transactions)
            watch(config_.udp_fd, POLLIN, Source::udp_listener, 0);
        if (connections_.size() < max_connections)
            watch(config_.tcp_fd, POLLIN, Source::tcp_listener, 0);
        if (config_.ack_fd >= 0)
            watch(config_.ack_fd, POLLIN, Source::ack_pipe, 0);
        Clock::time_point next = Clock::now() + std::chrono::seconds(1);
        for (const auto &[id, tx] : transactions_) {
            next = std::min(next, tx.deadline);
            if (tx.fd < 0)
                continue;
            short events = tx.state == State::tcp_connecting || tx.state == State::tcp_sending ? POLLOUT : POLLIN;
            watch(tx.fd, events, Source::transaction, id);
        }
        for (const auto &[key, connection] : connections_) {
            next = std::min(next, connection.deadline);
            short events = 0;
            if (!connection.busy && connection.out.size() - connection.sent < max_pending_replies)
                events |= POLLIN;
            if (connection.sent < connection.out.size())
                events |= POLLOUT;
            watch(connection.fd, events, Source::connection, key);
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
        int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, wait) + 1));
        if (rc < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        for (std::size_t i = 0; rc > 0 && i < fds.size(); ++i) {
            if (!fds[i].revents)
                continue;
            switch (watches[i].source) {
            case Source::udp_listener:
                on_udp_listener();
                break;
            case Source::tcp_listener:
                on_tcp_listener();
                break;
            case Source::ack_pipe:
                if (!on_ack_pipe())
                    return 0;
                break;
            case Source::transaction:
                on_transaction(static_cast<std::uint32_t>(watches[i].key), fds[i].revents);
                break;
            case Source::connection:
                on_connection(watches[i].key, fds[i].revents);
                break;
            }
        }
        expire(Clock::now());
    }
}

}  // namespace rustyolo::dns
