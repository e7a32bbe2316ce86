// The filter's answer cache: a repeated query for an allowed name is answered without asking the
// upstream and without a round trip through the supervisor.
//
// What is kept: positive answers (NOERROR with at least one record) whose addresses the supervisor
// has confirmed to be in the firewall's sets, as the reply packet the client got (already reduced
// to the CNAME chain, TTLs capped). What is never kept: errors, empty answers (NODATA, NXDOMAIN),
// answers with a TTL of 0, answers the supervisor failed or that carried an address its policy
// refused.
//
// How long: until the smallest TTL in the answer has run out, counted from when the upstream
// answered, and never past `limit` — the time until which the supervisor guarantees the answer's
// addresses stay in the sets, minus a margin (server.cc). Each hit serves every TTL counted down
// (whole seconds elapsed) and never longer than the entry still lives, so a client that caches the
// answer in turn stops using it before the set elements expire. An IP rotation is therefore followed
// as soon as the old answer's TTL has run out, as with any resolver.
//
// Key: the question's name (wire form, ASCII case folded), type and class, and whether the client
// used EDNS (the reply carries an OPT record then). The upstream query never sets the DO bit, so
// there is no DNSSEC variant. Each hit is rendered for its client: the stored wire form with the
// client's id, RD bit and the letter case of the client's question name (same length, same
// positions: the header and the question, which ldns always writes first and uncompressed at offset
// 12). TTL changes are rendered by ldns, at most about once a second per entry.
//
// Bounded by entries and bytes; when full, expired entries go first, then the oldest. Both are
// found in O(log n) (an index by expiry, a list by age): a full cache costs no scan per insert.
#pragma once

#include "plugins/dns-filter/dns_message.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace rustyolo::dns {

class AnswerCache {
public:
    using Clock = std::chrono::steady_clock;
    struct Limits {
        std::size_t entries = 10000;
        std::size_t bytes = 8u << 20;
    };

    explicit AnswerCache(Limits limits) : limits_(limits) {}

    // The cached answer to `query` rendered for this client, or nullopt (nothing fresh cached, or the
    // reply would exceed `max_size`: the caller then asks upstream, which handles truncation).
    std::optional<Bytes> lookup(const ClientQuery &query, std::size_t max_size, Clock::time_point now);

    // Keeps `reply` (build_client_reply_packet() for `query`) that the upstream gave at `answered`,
    // at most until `limit`. Ignored when not cacheable (see above) or larger than the byte limit.
    void insert(const ClientQuery &query, Packet reply, Clock::time_point answered, Clock::time_point limit);

    // Forgets every answer (a live change narrowed the policy).
    void clear();

    std::size_t size() const { return entries_.size(); }
    std::size_t bytes() const { return bytes_; }

private:
    struct Entry {
        Packet reply;
        std::vector<std::uint32_t> ttls;  // as answered: answer section, then authority section
        Clock::time_point answered;
        Clock::time_point expires;
        Bytes wire;                        // rendered for (elapsed, remaining) below
        long long elapsed = -1;
        long long remaining = -1;
        std::size_t cost = 0;
        std::list<std::string>::iterator order;
        std::multimap<Clock::time_point, std::string>::iterator by_expiry;
    };

    void erase(std::unordered_map<std::string, Entry>::iterator it);
    void make_room(std::size_t cost, Clock::time_point now);

    Limits limits_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;  // oldest first
    std::multimap<Clock::time_point, std::string> expiry_;  // soonest to expire first
    std::size_t bytes_ = 0;
};

// The cache key of a query: nullopt when the query has no single question.
std::optional<std::string> cache_key(const ClientQuery &query);

}  // namespace rustyolo::dns
