#include "plugins/net-nftables/feeder.hpp"

#include "plugins/net-nftables/nft_context.hpp"
#include <rustyolo/sdk/send_all.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace rustyolo::nft {

Feeder::Feeder(UniqueFd events, UniqueFd acks, AdmissionPolicy policy, FeederEvents callbacks)
    : events_(std::move(events)), acks_(std::move(acks)), policy_(std::move(policy)), callbacks_(std::move(callbacks)) {
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!stop_)
        throw std::runtime_error(std::string("feeder: eventfd: ") + std::strerror(errno));
}

Feeder::~Feeder() {
    if (thread_.joinable()) {
        {
            std::lock_guard lock(mutex_);
            ending_ = true;
            ready_changed_.notify_all();
        }
        std::uint64_t one = 1;
        ssize_t ignored = ::write(stop_.get(), &one, sizeof one);
        (void)ignored;
        thread_.join();
    }
}

void Feeder::start() { thread_ = std::thread([this] { run(); }); }

void Feeder::drain(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ending_ = true;
    ready_changed_.notify_all();
    ready_changed_.wait_for(lock, timeout, [this] { return done_; });
}

bool Feeder::wait_ready(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    ready_changed_.wait_for(lock, timeout, [this] { return ready_ || !alive_.load(); });
    return ready_;
}

Feeder::Counters Feeder::counters() const {
    std::lock_guard lock(mutex_);
    return counters_;
}

std::optional<std::string> Feeder::name_for(const std::string &address) const {
    std::lock_guard lock(names_mutex_);
    return names_.name_for(address);
}

void Feeder::ack(std::uint32_t id, bool ok, std::uint32_t life) {
    // A failure means the filter is gone; the events pipe's EOF reports it.
    std::lock_guard lock(ack_write_mutex_);
    send_all(acks_.get(), net::feed::format_ack(id, ok, life));
}

bool Feeder::change_filter(std::uint32_t seq, const std::string &line, std::chrono::milliseconds timeout) {
    {
        std::lock_guard lock(ack_write_mutex_);
        if (!send_all(acks_.get(), line))
            return false;
    }
    std::unique_lock lock(mutex_);
    return ready_changed_.wait_for(lock, timeout, [&] { return policy_done_ >= seq || !alive_.load(); }) &&
           policy_done_ >= seq;
}

void Feeder::set_name_ports(std::vector<std::uint16_t> ports) {
    std::lock_guard lock(sets_mutex_);
    policy_.ports = std::move(ports);
}

void Feeder::set_name_judge(NameJudge judge) {
    std::lock_guard lock(sets_mutex_);
    judge_ = std::move(judge);
}

std::vector<Element> Feeder::withdraw(const std::function<bool(const std::string &, std::uint16_t)> &still_allowed) {
    std::lock_guard lock(sets_mutex_);
    if (!nft_)
        throw NftError("the feeder has no nft context");
    std::vector<Element> removed = origins_.withdraw(still_allowed);
    if (!removed.empty())
        nft_->run(removal_script(removed), "removing denied addresses from the allow sets");
    for (const Element &element : removed)
        fresh_.forget(element.v6, element.address, element.port);
    return removed;
}

bool Feeder::fed(bool v6, const std::string &address, std::uint16_t port) const {
    std::lock_guard lock(sets_mutex_);
    return origins_.contains(v6, address, port);
}

void Feeder::handle(const FeedAction &action) {
    switch (action.kind) {
    case FeedAction::Kind::ready: {
        std::lock_guard lock(mutex_);
        ready_ = true;
        ready_changed_.notify_all();
        return;
    }
    case FeedAction::Kind::error:
        callbacks_.log(true, action.message);
        return;
    case FeedAction::Kind::fail: {
        std::lock_guard lock(mutex_);
        ++counters_.failed;
    }
        ack(action.id, false);
        return;
    case FeedAction::Kind::query: {
        if (!action.allowed) {
            std::lock_guard lock(mutex_);
            ++counters_.denied;
        }
        callbacks_.query(action.query, action.allowed, action.reason);
        return;
    }
    case FeedAction::Kind::apply:
        apply({action});
        return;
    case FeedAction::Kind::policy_done: {
        std::lock_guard lock(mutex_);
        policy_done_ = std::max(policy_done_, action.id);
        ready_changed_.notify_all();
        return;
    }
    }
}

bool Feeder::run_script(const std::string &script) {
    if (script.empty())
        return true;
    try {
        nft_->run(script, "adding DNS answers to the allow sets");
        return true;
    } catch (const NftError &e) {
        callbacks_.log(true, e.what());
        return false;
    }
}

void Feeder::apply(const std::vector<FeedAction> &batches) {
    std::lock_guard sets_lock(sets_mutex_);
    // Every batch that arrived together goes into one nft transaction; elements that already live
    // long enough are skipped. If the transaction fails, each batch is retried alone so that one
    // bad batch cannot fail the others.
    auto now = FreshElements::Clock::now();
    std::vector<std::vector<AnswerAddress>> accepted(batches.size());
    std::vector<Admission> admissions(batches.size());
    std::vector<AnswerAddress> all;
    std::size_t refused = 0;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        Admission &admission = admissions[i];
        admission = net::admit(batches[i].addresses, policy_);
        if (judge_)
            net::refuse_unallowed_name(admission, batches[i].name, judge_);
        for (const RefusedAddress &r : admission.refused)
            callbacks_.refused_address(r, batches[i].name);
        refused += admission.refused.size();
        accepted[i] = fresh_.needing_update(admission.accepted, policy_, now);
        all.insert(all.end(), accepted[i].begin(), accepted[i].end());
    }
    std::vector<bool> ok(batches.size(), true);
    if (run_script(element_script(all, policy_))) {
        fresh_.applied(all, policy_, now);
    } else {
        for (std::size_t i = 0; i < batches.size(); ++i) {
            ok[i] = batches.size() > 1 && run_script(element_script(accepted[i], policy_));
            if (ok[i])
                fresh_.applied(accepted[i], policy_, now);
        }
    }
    for (std::size_t i = 0; i < batches.size(); ++i)
        if (ok[i])
            origins_.record(admissions[i].accepted, batches[i].name, policy_, now);
    {
        std::lock_guard lock(mutex_);
        counters_.batches += batches.size();
        counters_.refused += refused;
        for (std::size_t i = 0; i < batches.size(); ++i) {
            counters_.addresses += ok[i] ? accepted[i].size() : 0;
            counters_.failed += ok[i] ? 0 : 1;
        }
        ++counters_.transactions;
    }
    {
        std::lock_guard lock(names_mutex_);
        for (std::size_t i = 0; i < batches.size(); ++i)
            if (ok[i])
                for (const AnswerAddress &address : admissions[i].accepted)
                    names_.remember(address.address, batches[i].name);
    }
    for (std::size_t i = 0; i < batches.size(); ++i)
        ack(batches[i].id, ok[i], ok[i] ? batch_life(admissions[i], policy_) : 0);
}

void Feeder::run() {
    try {
        nft_ = std::make_unique<NftContext>();
    } catch (const std::exception &e) {
        callbacks_.log(true, std::string("feeder: ") + e.what());
    }
    BatchAssembler assembler;
    net::feed::LineSplitter splitter;
    std::array<char, 8192> buffer;
    while (nft_) {
        pollfd fds[2] = {{events_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        int rc = ::poll(fds, 2, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || (fds[1].revents & POLLIN))
            break;
        ssize_t n = ::read(events_.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            // Every line the filter wrote has been read. At the end of the session the supervisor
            // (PID 1) kills the filter with every other process and then destroys the plugin,
            // which drains this: no failure. Otherwise the filter died during the session: warn,
            // after a moment in which the end of the session would have shown itself.
            std::unique_lock lock(mutex_);
            alive_ = false;
            ready_changed_.notify_all();
            if (!ready_changed_.wait_for(lock, kEndOfSessionGrace, [this] { return ending_; })) {
                lock.unlock();
                callbacks_.log(true, "the DNS filter exited: DNS answers stop (fail closed); the session keeps its "
                                     "current allow sets until they time out");
            }
            break;
        }
        splitter.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        std::vector<FeedAction> batches;
        while (auto item = splitter.next())
            for (FeedAction &action : assembler.on_line(*item)) {
                if (action.kind == FeedAction::Kind::apply) {
                    batches.push_back(std::move(action));
                    continue;
                }
                if (action.kind == FeedAction::Kind::policy_done && !batches.empty()) {
                    // Every batch the filter fed before the change is in the sets before the
                    // change counts as done (a deny then removes what they added).
                    apply(batches);
                    batches.clear();
                }
                handle(action);
            }
        if (!batches.empty())
            apply(batches);
    }
    std::lock_guard lock(mutex_);
    alive_ = false;
    done_ = true;
    ready_changed_.notify_all();
}

}  // namespace rustyolo::nft
