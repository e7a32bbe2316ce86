// The privileged side of the DNS filter's feed, without I/O: turning the filter's lines into
// batches, the nft commands that add the addresses admitted (net-common/admission.hpp) to the sets.
// The filter is untrusted here: every line is parsed strictly (feed_protocol.hpp), every address
// is classified again (admit()), and only ports that some allow entry opens are accepted.
#pragma once

#include "plugins/net-common/admission.hpp"
#include "plugins/net-common/feed_protocol.hpp"
#include "plugins/net-nftables/ruleset.hpp"

#include <chrono>
#include <cstdint>
#include <list>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <unordered_map>
#include <vector>

namespace rustyolo::nft {

using net::Admission;
using net::AdmissionPolicy;
using net::AnswerAddress;
using net::clamp_ttl;
using net::RefusedAddress;

// The set element's timeout for an answer: the clamped TTL plus a grace of a tenth (at least 5 s),
// so an element always outlives the client's cached answer and is refreshed at most once per grace.
std::uint32_t element_timeout(std::uint32_t ttl, const AdmissionPolicy &policy);

// One nft script (one transaction) that puts every (address . port) in allow4/allow6 with its
// element_timeout(). Each element is added, deleted and added again: that refreshes the timeout of an
// element that is already there on every kernel (a plain re-add only does so since Linux 6.10).
// Empty when `accepted` is empty.
std::string element_script(const std::vector<AnswerAddress> &accepted, const AdmissionPolicy &policy);

// The ack's <life> for a batch (feed_protocol.hpp): how long every accepted address stays in the
// sets at least, counted from before the batch was applied — the smallest clamp_ttl() of the
// batch, since each element either already lives that long or is (re)added with element_timeout().
// 0 when an address was refused or none was accepted: the filter must then not rely on the batch.
std::uint32_t batch_life(const Admission &admission, const AdmissionPolicy &policy);

// For each address put into the sets, the allowed name it was last resolved from (the name is the
// filter's word for it: it labels audit records, it grants nothing). Bounded: when full, the
// address updated longest ago is forgotten. Not thread-safe (the Feeder locks it).
class NameMemory {
public:
    explicit NameMemory(std::size_t capacity = 65536) : capacity_(capacity) {}
    void remember(const std::string &address, const std::string &name);
    std::optional<std::string> name_for(const std::string &address) const;
    std::size_t size() const { return names_.size(); }

private:
    struct Slot {
        std::string name;
        std::list<std::string>::iterator order;
    };
    std::size_t capacity_;
    std::unordered_map<std::string, Slot> names_;
    std::list<std::string> order_;  // least recently updated first
};

// Remembers until when each (address . port) stays in the allow sets, so that an answer that would
// not extend an element's life costs no nft transaction. Answers relayed by a caching resolver
// count their TTL down, so repeated lookups mostly need no update.
class FreshElements {
public:
    using Clock = std::chrono::steady_clock;
    // `addresses` reduced to the ports whose element would not already outlive clamp_ttl(ttl)
    // from `now` (the life of the answer the client gets); addresses left without a port go.
    std::vector<AnswerAddress> needing_update(const std::vector<AnswerAddress> &addresses, const AdmissionPolicy &policy,
                                              Clock::time_point now) const;
    // Records that `addresses` were put in the sets at `now` (with element_timeout()).
    void applied(const std::vector<AnswerAddress> &addresses, const AdmissionPolicy &policy, Clock::time_point now);
    std::size_t size() const { return until_.size(); }
    // Forgets an element (it was removed from the sets).
    void forget(bool v6, const std::string &address, std::uint16_t port) { until_.erase({v6, address, port}); }

private:
    std::map<std::tuple<bool, std::string, std::uint16_t>, Clock::time_point> until_;
    std::size_t prune_at_ = 4096;
};

// Which names put each (address . port) into the allow sets, and until when each one keeps it
// there: what a live deny asks to remove exactly the elements that no remaining entry allows.
// Bounded like FreshElements (expired origins are forgotten whenever the map has doubled) —
// except the origins of names a live deny could take back (set_deniable): an element may have
// timed out in the sets while a connection opened through it is still open, and the deny must
// still find it to end that connection. Those are forgotten only beyond kMaxOrigins elements.
class ElementOrigins {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxOrigins = 1u << 18;
    // Whether a name is matched by an entry a live deny can take back (a live entry).
    void set_deniable(std::function<bool(const std::string &)> deniable) { deniable_ = std::move(deniable); }
    // `accepted` (admitted, with their ports) were put into the sets for `name` at `now`.
    void record(const std::vector<AnswerAddress> &accepted, const std::string &name, const AdmissionPolicy &policy,
                Clock::time_point now);
    // Drops every origin whose name `still_allowed(name, port)` rejects, and returns the elements
    // left without an origin: those no remaining entry allows (in the sets, or timed out there
    // while a connection opened through them may still be open). They are forgotten here.
    template <class Allowed>
    std::vector<Element> withdraw(const Allowed &still_allowed);
    std::size_t size() const { return origins_.size(); }
    bool contains(bool v6, const std::string &address, std::uint16_t port) const {
        return origins_.count({v6, address, port}) != 0;
    }

private:
    std::map<std::tuple<bool, std::string, std::uint16_t>, std::map<std::string, Clock::time_point>> origins_;
    std::size_t prune_at_ = 4096;
    std::function<bool(const std::string &)> deniable_;
};

template <class Allowed>
std::vector<Element> ElementOrigins::withdraw(const Allowed &still_allowed) {
    std::vector<Element> removed;
    for (auto it = origins_.begin(); it != origins_.end();) {
        const auto &[v6, address, port] = it->first;
        std::erase_if(it->second, [&, port = port](const auto &origin) { return !still_allowed(origin.first, port); });
        if (it->second.empty()) {
            removed.push_back(Element{v6, address, port});
            it = origins_.erase(it);
        } else {
            ++it;
        }
    }
    return removed;
}

struct FeedAction {
    enum class Kind {
        ready,  // the filter serves queries
        apply,  // add `addresses` (not yet admitted), resolved from `name`, for batch `id`, then ack
        fail,   // ack batch `id` with fail
        query,  // the filter refused (`allowed` false, `reason`) or answered a query: `query`
        policy_done,  // the filter has the live change `id` in force
        error,  // a protocol violation: `message`
    };
    Kind kind = Kind::error;
    std::uint32_t id = 0;
    std::vector<AnswerAddress> addresses;
    std::string name;
    net::feed::QueryReport query;
    bool allowed = false;
    net::feed::DenyReason reason = net::feed::DenyReason::name;
    std::string message;
};

// Turns the filter's lines into actions. A malformed line poisons the open batch (it is answered
// with fail); a batch interrupted by another id fails; a batch larger than
// max_addresses_per_batch fails.
class BatchAssembler {
public:
    std::vector<FeedAction> on_line(const net::feed::LineSplitter::Item &item);

private:
    std::optional<std::uint32_t> open_;
    std::vector<AnswerAddress> addresses_;
    bool poisoned_ = false;
    bool ready_ = false;
};

}  // namespace rustyolo::nft
