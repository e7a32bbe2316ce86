// The supervisor's feeder thread: reads the DNS filter's lines, adds admitted addresses to the
// allow sets (one nft transaction per batch, its own nft_ctx), and acknowledges each batch with how
// long its addresses stay there (the filter's cache relies on it). It runs for the whole session
// inside the supervisor (PID 1); the plugin is never unloaded. It also remembers which allowed name
// each address in the sets was resolved from (name_for(), for the packet log's audit records) and
// passes the filter's query reports (deny/allow lines) on; those are not rate-limited here, the
// audit channel limits and counts them exactly.
#pragma once

#include "plugins/net-nftables/feed_batch.hpp"
#include <rustyolo/sdk/unique_fd.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <vector>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace rustyolo::nft {

class NftContext;

struct FeederEvents {
    // Called from the feeder thread; the host's log and audit callbacks must be thread-safe.
    std::function<void(bool error, const std::string &message)> log;
    // A query the filter refused (allowed false, with its reason) or answered (only at verbose).
    std::function<void(const net::feed::QueryReport &query, bool allowed, net::feed::DenyReason reason)> query;
    // An address of the answer for `name` that the policy refused.
    std::function<void(const RefusedAddress &refused, const std::string &name)> refused_address;
};

class Feeder {
public:
    Feeder(UniqueFd events, UniqueFd acks, AdmissionPolicy policy, FeederEvents callbacks);
    ~Feeder();
    Feeder(const Feeder &) = delete;
    Feeder &operator=(const Feeder &) = delete;

    void start();
    // True once the filter said "ready"; false on timeout or if it exited first.
    bool wait_ready(std::chrono::milliseconds timeout);
    // True while the filter's events pipe is open.
    bool filter_alive() const { return alive_.load(); }

    // The end of the session, once the filter is dead (the supervisor, PID 1, kills every other
    // process before the final accounting): waits at most `timeout` until the thread has read
    // every line the filter wrote (its query reports) up to the end of the pipe, so that each
    // refusal the filter reported is recorded. Its exit is then not reported as a failure.
    void drain(std::chrono::milliseconds timeout);

    struct Counters {
        std::uint64_t batches = 0, transactions = 0, failed = 0, addresses = 0, refused = 0, denied = 0;
    };
    Counters counters() const;

    // Live changes (`rustyolo allow` / `deny`), from the supervisor's control thread.
    // Sends a policy line (feed_protocol.hpp) to the filter and waits until the filter has it in
    // force and every batch it fed before is applied (true), or `timeout` passed (false).
    bool change_filter(std::uint32_t seq, const std::string &line, std::chrono::milliseconds timeout);
    // The ports the admission accepts for names from now on.
    void set_name_ports(std::vector<std::uint16_t> ports);
    // Whether the policy in force lets a name reach a port. Batches are judged by it as well as
    // by the filter that fed them: an address whose batch names a name the policy does not allow
    // (for a port) is refused, not put into the sets. Unset (mode any), names are not judged here.
    using NameJudge = std::function<bool(const std::string &name, std::uint16_t port)>;
    void set_name_judge(NameJudge judge);
    // Removes from the allow sets every element whose names `still_allowed(name, port)` all reject
    // (ElementOrigins), in one transaction, and returns them. Throws NftError when nft refuses.
    std::vector<Element> withdraw(const std::function<bool(const std::string &, std::uint16_t)> &still_allowed);
    // Whether (address . port) was put into the sets for a name that is still allowed.
    bool fed(bool v6, const std::string &address, std::uint16_t port) const;

    // The allowed name `address` (canonical inet_ntop text) was last resolved from when it was put
    // into the sets, or nullopt. Thread-safe; bounded memory (NameMemory), newest wins. An address
    // that the filter did not feed again because it was still in the sets keeps its older name.
    std::optional<std::string> name_for(const std::string &address) const;

private:
    void run();
    void handle(const FeedAction &action);
    void apply(const std::vector<FeedAction> &batches);
    bool run_script(const std::string &script);
    void ack(std::uint32_t id, bool ok, std::uint32_t life = 0);

    UniqueFd events_;
    UniqueFd acks_;
    UniqueFd stop_;                      // eventfd: the destructor wakes the thread
    std::unique_ptr<NftContext> nft_;    // the thread's own (libnftables contexts are not shared)
    AdmissionPolicy policy_;
    FeederEvents callbacks_;
    std::thread thread_;
    std::atomic<bool> alive_{true};
    mutable std::mutex mutex_;
    std::condition_variable ready_changed_;
    bool ready_ = false;
    bool ending_ = false;  // drain() or the destructor: the filter's exit is the session's end
    bool done_ = false;    // the thread has ended
    static constexpr std::chrono::seconds kEndOfSessionGrace{2};
    Counters counters_;
    // Guards the sets' bookkeeping and the nft context: the feeder thread's batches and the
    // control thread's withdraw() are applied one after the other.
    mutable std::mutex sets_mutex_;
    FreshElements fresh_;
    ElementOrigins origins_;
    NameJudge judge_;
    std::mutex ack_write_mutex_;             // acks (feeder thread) and policy lines (control thread)
    std::uint32_t policy_done_ = 0;          // the last live change the filter confirmed (mutex_)
    mutable std::mutex names_mutex_;
    NameMemory names_;
};

}  // namespace rustyolo::nft
