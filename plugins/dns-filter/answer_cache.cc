#include "plugins/dns-filter/answer_cache.hpp"

#include <algorithm>
#include <limits>

namespace rustyolo::dns {
namespace {

std::uint8_t fold(std::uint8_t byte) {
    return byte >= 'A' && byte <= 'Z' ? static_cast<std::uint8_t>(byte - 'A' + 'a') : byte;
}

// Calls f(rr) for every record of the answer and authority sections, in that order.
template <typename F>
void each_record(ldns_pkt *packet, F f) {
    for (ldns_rr_list *list : {ldns_pkt_answer(packet), ldns_pkt_authority(packet)})
        if (list)
            for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i)
                f(ldns_rr_list_rr(list, i));
}

constexpr std::size_t entry_overhead = 512;  // the ldns packet, the key and the bookkeeping, roughly

}  // namespace

std::optional<std::string> cache_key(const ClientQuery &query) {
    const ldns_rr *question = query.question();
    if (!question)
        return std::nullopt;
    const ldns_rdf *owner = ldns_rr_owner(question);
    std::string key;
    const std::uint8_t *data = ldns_rdf_data(owner);
    for (std::size_t i = 0; i < ldns_rdf_size(owner); ++i)
        key += static_cast<char>(fold(data[i]));
    key += static_cast<char>(query.qtype >> 8);
    key += static_cast<char>(query.qtype & 0xff);
    key += static_cast<char>(query.qclass >> 8);
    key += static_cast<char>(query.qclass & 0xff);
    key += query.edns ? 'E' : '-';
    return key;
}

void AnswerCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= it->second.cost;
    order_.erase(it->second.order);
    expiry_.erase(it->second.by_expiry);
    entries_.erase(it);
}

void AnswerCache::make_room(std::size_t cost, Clock::time_point now) {
    auto full = [&] { return entries_.size() + 1 > limits_.entries || bytes_ + cost > limits_.bytes; };
    if (!full())
        return;
    while (!expiry_.empty() && expiry_.begin()->first <= now)
        erase(entries_.find(expiry_.begin()->second));
    while (full() && !order_.empty())
        erase(entries_.find(order_.front()));
}

void AnswerCache::insert(const ClientQuery &query, Packet reply, Clock::time_point answered, Clock::time_point limit) {
    if (!reply || limits_.entries == 0 || ldns_pkt_get_rcode(reply.get()) != LDNS_RCODE_NOERROR ||
        ldns_pkt_ancount(reply.get()) == 0)
        return;
    auto key = cache_key(query);
    if (!key)
        return;
    Entry entry;
    std::uint32_t smallest = std::numeric_limits<std::uint32_t>::max();
    each_record(reply.get(), [&](ldns_rr *rr) {
        entry.ttls.push_back(ldns_rr_ttl(rr));
        smallest = std::min(smallest, ldns_rr_ttl(rr));
    });
    if (smallest == 0)
        return;
    entry.answered = answered;
    entry.expires = std::min(answered + std::chrono::seconds(smallest), limit);
    if (entry.expires <= answered)
        return;
    entry.wire = packet_wire(reply.get());
    if (entry.wire.size() < 12)
        return;
    entry.cost = 2 * entry.wire.size() + key->size() + entry_overhead;
    if (entry.cost > limits_.bytes)
        return;
    entry.reply = std::move(reply);
    if (auto old = entries_.find(*key); old != entries_.end())
        erase(old);
    make_room(entry.cost, answered);
    order_.push_back(*key);
    entry.order = std::prev(order_.end());
    entry.by_expiry = expiry_.emplace(entry.expires, *key);
    bytes_ += entry.cost;
    entries_.emplace(std::move(*key), std::move(entry));
}

std::optional<Bytes> AnswerCache::lookup(const ClientQuery &query, std::size_t max_size, Clock::time_point now) {
    if (entries_.empty())
        return std::nullopt;
    auto key = cache_key(query);
    if (!key)
        return std::nullopt;
    auto it = entries_.find(*key);
    if (it == entries_.end())
        return std::nullopt;
    Entry &entry = it->second;
    if (now >= entry.expires) {
        erase(it);
        return std::nullopt;
    }
    // TTLs count down by the whole seconds elapsed, and never exceed what the entry has left
    // (rounded up, so never 0 while it is served).
    long long elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - entry.answered).count();
    auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(entry.expires - now).count();
    long long remaining = (left_ms + 999) / 1000;
    if (elapsed != entry.elapsed || remaining != entry.remaining) {
        std::size_t i = 0;
        each_record(entry.reply.get(), [&](ldns_rr *rr) {
            long long ttl = std::min<long long>(static_cast<long long>(entry.ttls[i++]) - elapsed, remaining);
            ldns_rr_set_ttl(rr, static_cast<std::uint32_t>(std::max<long long>(ttl, 1)));
        });
        Bytes wire = packet_wire(entry.reply.get());
        if (wire.size() < 12) {
            erase(it);
            return std::nullopt;
        }
        bytes_ -= entry.cost;
        entry.cost = 2 * wire.size() + it->first.size() + entry_overhead;
        bytes_ += entry.cost;
        entry.wire = std::move(wire);
        entry.elapsed = elapsed;
        entry.remaining = remaining;
    }
    if (entry.wire.size() > max_size)
        return std::nullopt;

    // Render for this client: id, RD, and the question name's letter case.
    const ldns_rdf *owner = ldns_rr_owner(query.question());
    const std::uint8_t *name = ldns_rdf_data(owner);
    std::size_t length = ldns_rdf_size(owner);
    constexpr std::size_t question_at = 12;
    if (entry.wire.size() < question_at + length)
        return std::nullopt;
    for (std::size_t i = 0; i < length; ++i)
        if (fold(entry.wire[question_at + i]) != fold(name[i]))
            return std::nullopt;  // not where it must be: never serve a mismatch
    Bytes out = entry.wire;
    out[0] = static_cast<std::uint8_t>(query.id >> 8);
    out[1] = static_cast<std::uint8_t>(query.id & 0xff);
    out[2] = static_cast<std::uint8_t>((out[2] & ~0x01u) | (query.recursion_desired ? 0x01u : 0u));
    std::copy(name, name + length, out.begin() + question_at);
    return out;
}

void AnswerCache::clear() {
    entries_.clear();
    order_.clear();
    expiry_.clear();
    bytes_ = 0;
}

}  // namespace rustyolo::dns
