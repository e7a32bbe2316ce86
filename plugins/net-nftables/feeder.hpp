// The supervisor's feeder thread: reads the DNS filter's lines, adds admitted addresses to the
// allow sets (one nft transaction per batch, its own nft_ctx), and acknowledges each batch. It runs
// for the whole session inside the supervisor (PID 1); the plugin is never unloaded.
#pragma once

#include "feed_batch.hpp"
#include "unique_fd.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace rustyolo::nft {

class NftContext;

struct FeederEvents {
    // Called from the feeder thread; the host's log and audit callbacks must be thread-safe.
    std::function<void(bool error, const std::string &message)> log;
    std::function<void(const std::string &name, std::uint16_t qtype)> denied_query;
    std::function<void(const RefusedAddress &refused)> refused_address;
};

class Feeder {
public:
    Feeder(UniqueFd events, UniqueFd acks, FeedPolicy policy, FeederEvents callbacks);
    ~Feeder();
    Feeder(const Feeder &) = delete;
    Feeder &operator=(const Feeder &) = delete;

    void start();
    // True once the filter said "ready"; false on timeout or if it exited first.
    bool wait_ready(std::chrono::milliseconds timeout);
    // True while the filter's events pipe is open.
    bool filter_alive() const { return alive_.load(); }

    struct Counters {
        std::uint64_t batches = 0, transactions = 0, failed = 0, addresses = 0, refused = 0, denied = 0;
    };
    Counters counters() const;

private:
    void run();
    void handle(const FeedAction &action);
    void apply(const std::vector<FeedAction> &batches);
    bool run_script(const std::string &script);
    void ack(std::uint32_t id, bool ok);

    UniqueFd events_;
    UniqueFd acks_;
    UniqueFd stop_;                      // eventfd: the destructor wakes the thread
    std::unique_ptr<NftContext> nft_;    // the thread's own (libnftables contexts are not shared)
    FeedPolicy policy_;
    FeederEvents callbacks_;
    std::thread thread_;
    std::atomic<bool> alive_{true};
    mutable std::mutex mutex_;
    std::condition_variable ready_changed_;
    bool ready_ = false;
    Counters counters_;
    FreshElements fresh_;  // feeder thread only
    // Denied-query reports are rate-limited: at most deny_burst per second, the rest counted.
    std::chrono::steady_clock::time_point deny_window_{};
    std::uint32_t deny_in_window_ = 0;
    std::uint64_t deny_suppressed_ = 0;
};

}  // namespace rustyolo::nft
