#include "entrypoint/audit_channel.hpp"

#include "core/audit/record.hpp"
#include <rustyolo/sdk/send_all.hpp>
#include "entrypoint/suppressed_tally.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace rustyolo::entrypoint {

namespace json = boost::json;

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kRatePerSecond = 200.0;
constexpr double kBurst = 2000.0;
constexpr std::size_t kMaxQueued = 4096;  // records waiting for the writer
constexpr auto kSuppressedInterval = std::chrono::seconds(1);
// The supervisor's own records (own_record) skip the token bucket and the queue's bound: at most
// this many per session, far more than there are (a few self-test records, the exit, one network
// "lost" record per firewall plugin); any beyond are rate-limited like the rest.
constexpr std::size_t kMaxOwnRecords = 64;
// Live policy changes (layer "policy") are the user's own actions, made one at a time over the
// control socket, which the agent cannot reach: each is recorded, up to this many per session.
constexpr std::size_t kMaxPolicyRecords = 4096;

// Records that are few by construction and must never become a count under a flood: the
// supervisor's own lifecycle records (self_test, exit; made with audit_emit, never by a plugin)
// and the firewall plugin's network "lost" record (made once, at the end of the session: the
// count of packets whose log messages never arrived).
bool own_record(std::string_view layer, std::string_view event, bool from_plugin) {
    return from_plugin ? layer == "network" && event == "lost" : layer == "lifecycle" || layer == "policy";
}

struct Channel {
    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable done_cv;
    struct Line {
        std::string verdict;  // for the level, when the line was queued before audit_start()
        std::string text;
    };
    std::deque<Line> queue;
    SuppressedTally suppressed;  // what was not sent as records, by verdict and key
    double tokens = kBurst;
    Clock::time_point refilled = Clock::now();
    Clock::time_point last_suppressed_sent = Clock::now();
    std::size_t own_records = 0;     // sent past the token bucket (kMaxOwnRecords)
    std::size_t policy_records = 0;  // the same, for live policy changes (kMaxPolicyRecords)
    std::string level;  // empty until audit_start()
    int fd = -1;
    bool started = false;
    bool finishing = false;
    bool finished = false;  // no more records accepted
    bool writer_done = false;
    bool broken = false;    // the host end is gone
};

// Never destroyed: the writer thread may outlive main()'s locals.
Channel &channel() {
    static Channel *c = new Channel;
    return *c;
}

void deliver(Channel &c, const std::string &batch) {
    if (c.fd < 0) {
        // No session socket (a pasted --dry-run command): the records go to the log.
        std::size_t start = 0;
        while (start < batch.size()) {
            const std::size_t end = batch.find('\n', start);
            spdlog::debug("audit: {}", batch.substr(start, end - start));
            start = end + 1;
        }
        return;
    }
    if (!c.broken && !send_all(c.fd, batch)) {
        c.broken = true;
        spdlog::warn("audit: the host CLI no longer takes records ({}); the session is ending",
                     std::strerror(errno));
    }
}

void writer_loop() {
    Channel &c = channel();
    std::unique_lock lock(c.mutex);
    for (;;) {
        c.wake.wait_for(lock, kSuppressedInterval,
                        [&] { return !c.queue.empty() || c.finishing; });
        std::string batch;
        while (!c.queue.empty()) {
            batch += c.queue.front().text;
            batch += '\n';
            c.queue.pop_front();
        }
        const bool last = c.finishing;
        if (!c.suppressed.empty() &&
            (last || Clock::now() - c.last_suppressed_sent >= kSuppressedInterval)) {
            // As many lines as the counts need, each within the host's limit.
            for (const std::string &line : c.suppressed.take_lines(audit::kMaxWireLine)) {
                batch += line;
                batch += '\n';
            }
            c.last_suppressed_sent = Clock::now();
        }
        if (!batch.empty()) {
            lock.unlock();
            deliver(c, batch);
            lock.lock();
        }
        if (last && c.queue.empty() && c.suppressed.empty())
            break;
    }
    c.writer_done = true;
    c.done_cv.notify_all();
}

// `own`: one of the supervisor's own records (own_record), sent past the rate limit.
void enqueue(Channel &c, json::object record, bool own) {
    // Called with the lock held.
    if (c.finished)
        return;
    const json::value *verdict = record.if_contains("verdict");
    if (!c.level.empty() && verdict && verdict->is_string() &&
        !audit::level_admits(c.level, verdict->as_string()))
        return;
    const Clock::time_point now = Clock::now();
    c.tokens = std::min(kBurst, c.tokens + std::chrono::duration<double>(now - c.refilled).count() *
                                               kRatePerSecond);
    c.refilled = now;
    std::string line = json::serialize(record);
    const json::value *layer = record.if_contains("layer");
    const bool policy = layer && layer->is_string() && layer->as_string() == "policy";
    std::size_t &own_count = policy ? c.policy_records : c.own_records;
    const bool unlimited = own && own_count < (policy ? kMaxPolicyRecords : kMaxOwnRecords);
    if (line.size() <= audit::kMaxWireLine && (unlimited || (c.tokens >= 1.0 && c.queue.size() < kMaxQueued))) {
        if (unlimited)
            ++own_count;
        else
            c.tokens -= 1.0;
        c.queue.push_back(Channel::Line{verdict && verdict->is_string() ? std::string(verdict->as_string()) : "",
                                        std::move(line)});
        c.wake.notify_one();
    } else {
        c.suppressed.count(verdict && verdict->is_string() ? std::string_view(verdict->as_string()) : "info",
                           record);
    }
}

// A record that could not be queued nor counted by key: its `events` (audit::weight) counted as
// lost (without allocating).
void count_lost(Channel &c, std::string_view verdict, std::uint64_t events) noexcept {
    std::lock_guard lock(c.mutex);
    if (c.finished || (!c.level.empty() && !audit::level_admits(c.level, verdict)))
        return;
    c.suppressed.lost(verdict, events);
    c.wake.notify_one();
}

}  // namespace

void audit_start(int fd, std::string level) {
    Channel &c = channel();
    std::lock_guard lock(c.mutex);
    if (c.started) {
        if (fd >= 0)
            ::close(fd);
        return;
    }
    c.started = true;
    c.level = std::move(level);
    c.fd = fd;
    if (fd >= 0) {
        // A host that stops reading must not hold the supervisor forever.
        timeval timeout{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    }
    // Records queued before the level was known: apply it now.
    std::erase_if(c.queue, [&](const Channel::Line &line) { return !audit::level_admits(c.level, line.verdict); });
    // At level "none" every record is dropped (level_admits), but the writer still runs: the
    // control responses (audit_send_frame) take the same way.
    if (c.level == "none")
        c.queue.clear();
    std::thread(writer_loop).detach();
}

void audit_emit(std::string_view layer, std::string_view verdict, std::string_view event,
                json::object details) {
    Channel &c = channel();
    const std::uint64_t events = audit::weight(layer, event, details);
    try {
        json::object record = audit::make_record(layer, verdict, event, std::move(details));
        std::lock_guard lock(c.mutex);
        enqueue(c, std::move(record), own_record(layer, event, false));
    } catch (...) {
        // Out of memory or the like: never take the supervisor down for a record, but count it.
        count_lost(c, verdict, events);
    }
}

void audit_emit_from_plugin(const std::string &plugin, const json::object &event) {
    json::object record;
    try {
        for (const char *key : {"layer", "verdict", "event", "details"})
            if (const json::value *v = event.if_contains(key))
                record[key] = *v;
        if (event.size() != record.size()) {
            spdlog::warn("[{}] dropped an audit record with fields other than layer, verdict, event, "
                         "details: {}", plugin, json::serialize(event).substr(0, 300));
            return;
        }
        record["time"] = audit::now_rfc3339();
        if (auto problem = audit::check_wire_record(record)) {
            spdlog::warn("[{}] dropped a malformed audit record ({}): {}", plugin, *problem,
                         json::serialize(event).substr(0, 300));
            return;
        }
        const bool own = own_record(record.at("layer").as_string(), record.at("event").as_string(), true);
        Channel &c = channel();
        std::lock_guard lock(c.mutex);
        enqueue(c, std::move(record), own);
    } catch (...) {
        const json::value *verdict = event.if_contains("verdict");
        count_lost(channel(), verdict && verdict->is_string() ? std::string_view(verdict->as_string()) : "info",
                   audit::weight(event));
    }
}

void audit_send_frame(std::string line) {
    Channel &c = channel();
    std::lock_guard lock(c.mutex);
    if (c.finished)
        return;
    if (!line.empty() && line.back() == '\n')
        line.pop_back();
    c.queue.push_back(Channel::Line{"info", std::move(line)});
    c.wake.notify_one();
}

void audit_finish(int timeout_ms) {
    Channel &c = channel();
    std::unique_lock lock(c.mutex);
    if (!c.started || c.finishing || c.writer_done) {
        c.finished = true;
        return;
    }
    c.finished = true;
    c.finishing = true;
    c.wake.notify_all();
    c.done_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return c.writer_done; });
}

}  // namespace rustyolo::entrypoint
