#include "plugins/net-nftables/feed_batch.hpp"

#include "plugins/net-nftables/ruleset.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

namespace rustyolo::nft {

std::uint32_t element_timeout(std::uint32_t ttl, const AdmissionPolicy &policy) {
    std::uint32_t clamped = clamp_ttl(ttl, policy);
    return clamped + std::max<std::uint32_t>(5, clamped / 10);
}

std::string element_script(const std::vector<AnswerAddress> &accepted, const AdmissionPolicy &policy) {
    // (family, address, port) -> the longest timeout asked for in this batch.
    std::map<std::tuple<bool, std::string, std::uint16_t>, std::uint32_t> elements;
    for (const AnswerAddress &address : accepted)
        for (std::uint16_t port : address.ports) {
            auto &timeout = elements[{address.v6, address.address, port}];
            timeout = std::max(timeout, element_timeout(address.ttl, policy));
        }
    std::string script;
    for (bool v6 : {false, true}) {
        std::string with_timeout;
        std::string bare;
        for (const auto &[key, timeout] : elements) {
            const auto &[family, address, port] = key;
            if (family != v6)
                continue;
            std::string element = address + " . " + std::to_string(port);
            with_timeout += (with_timeout.empty() ? "" : ", ") + element + " timeout " + std::to_string(timeout) + "s";
            bare += (bare.empty() ? "" : ", ") + element;
        }
        if (bare.empty())
            continue;
        std::string set = std::string(table_family) + " " + table_name + (v6 ? " allow6" : " allow4");
        script += "add element " + set + " { " + with_timeout + " }\n";
        script += "delete element " + set + " { " + bare + " }\n";
        script += "add element " + set + " { " + with_timeout + " }\n";
    }
    return script;
}

std::uint32_t batch_life(const Admission &admission, const AdmissionPolicy &policy) {
    if (!admission.refused.empty() || admission.accepted.empty())
        return 0;
    std::uint32_t life = std::numeric_limits<std::uint32_t>::max();
    for (const AnswerAddress &address : admission.accepted)
        life = std::min(life, clamp_ttl(address.ttl, policy));
    return life;
}

void NameMemory::remember(const std::string &address, const std::string &name) {
    if (capacity_ == 0)
        return;
    if (auto it = names_.find(address); it != names_.end()) {
        it->second.name = name;
        order_.splice(order_.end(), order_, it->second.order);
        return;
    }
    if (names_.size() >= capacity_) {
        names_.erase(order_.front());
        order_.pop_front();
    }
    order_.push_back(address);
    names_.emplace(address, Slot{name, std::prev(order_.end())});
}

std::optional<std::string> NameMemory::name_for(const std::string &address) const {
    auto it = names_.find(address);
    if (it == names_.end())
        return std::nullopt;
    return it->second.name;
}

std::vector<AnswerAddress> FreshElements::needing_update(const std::vector<AnswerAddress> &addresses,
                                                         const AdmissionPolicy &policy, Clock::time_point now) const {
    std::vector<AnswerAddress> out;
    for (const AnswerAddress &address : addresses) {
        AnswerAddress reduced = address;
        reduced.ports.clear();
        auto wanted = now + std::chrono::seconds(clamp_ttl(address.ttl, policy));
        for (std::uint16_t port : address.ports) {
            auto it = until_.find({address.v6, address.address, port});
            if (it == until_.end() || it->second < wanted)
                reduced.ports.push_back(port);
        }
        if (!reduced.ports.empty())
            out.push_back(std::move(reduced));
    }
    return out;
}

void FreshElements::applied(const std::vector<AnswerAddress> &addresses, const AdmissionPolicy &policy,
                            Clock::time_point now) {
    for (const AnswerAddress &address : addresses)
        for (std::uint16_t port : address.ports) {
            auto &until = until_[{address.v6, address.address, port}];
            until = std::max(until, now + std::chrono::seconds(element_timeout(address.ttl, policy)));
        }
    // Forget what has expired whenever the map has doubled, so it stays about as large as the sets.
    if (until_.size() > prune_at_) {
        std::erase_if(until_, [now](const auto &entry) { return entry.second <= now; });
        prune_at_ = std::max<std::size_t>(4096, 2 * until_.size());
    }
}

void ElementOrigins::record(const std::vector<AnswerAddress> &accepted, const std::string &name,
                            const AdmissionPolicy &policy, Clock::time_point now) {
    for (const AnswerAddress &address : accepted)
        for (std::uint16_t port : address.ports) {
            auto &until = origins_[{address.v6, address.address, port}][name];
            until = std::max(until, now + std::chrono::seconds(element_timeout(address.ttl, policy)));
        }
    if (origins_.size() > prune_at_) {
        const bool keep_deniable = origins_.size() <= kMaxOrigins;
        for (auto it = origins_.begin(); it != origins_.end();) {
            std::erase_if(it->second, [&](const auto &origin) {
                return origin.second <= now && !(keep_deniable && deniable_ && deniable_(origin.first));
            });
            it = it->second.empty() ? origins_.erase(it) : std::next(it);
        }
        prune_at_ = std::max<std::size_t>(4096, 2 * origins_.size());
    }
}

std::vector<FeedAction> BatchAssembler::on_line(const net::feed::LineSplitter::Item &item) {
    std::vector<FeedAction> actions;
    auto error = [&](std::string message) {
        FeedAction action;
        action.kind = FeedAction::Kind::error;
        action.message = std::move(message);
        actions.push_back(std::move(action));
        if (open_)
            poisoned_ = true;
    };
    auto fail = [&](std::uint32_t id) {
        FeedAction action;
        action.kind = FeedAction::Kind::fail;
        action.id = id;
        actions.push_back(std::move(action));
    };
    if (item.overlong) {
        error("DNS filter sent a line longer than " + std::to_string(net::feed::max_line_length) + " bytes");
        return actions;
    }
    net::feed::EventLine line;
    try {
        line = net::feed::parse_event_line(item.line);
    } catch (const net::feed::FeedError &e) {
        error(e.what());
        return actions;
    }
    switch (line.kind) {
    case net::feed::EventLine::Kind::ready:
        if (ready_) {
            error("DNS filter said \"ready\" twice");
        } else {
            ready_ = true;
            FeedAction action;
            action.kind = FeedAction::Kind::ready;
            actions.push_back(std::move(action));
        }
        break;
    case net::feed::EventLine::Kind::policy_done: {
        FeedAction action;
        action.kind = FeedAction::Kind::policy_done;
        action.id = line.id;
        actions.push_back(std::move(action));
        break;
    }
    case net::feed::EventLine::Kind::deny:
    case net::feed::EventLine::Kind::allow: {
        FeedAction action;
        action.kind = FeedAction::Kind::query;
        action.allowed = line.kind == net::feed::EventLine::Kind::allow;
        action.reason = line.reason;
        action.query = std::move(line.query);
        actions.push_back(std::move(action));
        break;
    }
    case net::feed::EventLine::Kind::address:
        if (open_ && *open_ != line.id) {
            error("DNS filter interleaved batch " + std::to_string(line.id) + " into batch " + std::to_string(*open_));
            fail(*open_);
            addresses_.clear();
            poisoned_ = false;
            open_.reset();
        }
        if (!open_) {
            open_ = line.id;
            addresses_.clear();
            poisoned_ = false;
        }
        if (addresses_.size() >= net::feed::max_addresses_per_batch) {
            if (!poisoned_)
                error("DNS filter sent more than " + std::to_string(net::feed::max_addresses_per_batch) +
                      " addresses in batch " + std::to_string(line.id));
            poisoned_ = true;
        } else {
            addresses_.push_back(std::move(line.address));
        }
        break;
    case net::feed::EventLine::Kind::end:
        if (!open_ || *open_ != line.id) {
            error("DNS filter ended batch " + std::to_string(line.id) + ", which it never started");
            fail(line.id);
        } else if (poisoned_) {
            fail(line.id);
        } else {
            FeedAction action;
            action.kind = FeedAction::Kind::apply;
            action.id = line.id;
            action.name = std::move(line.name);
            action.addresses = std::move(addresses_);
            actions.push_back(std::move(action));
        }
        if (open_ && *open_ == line.id) {
            open_.reset();
            addresses_.clear();
            poisoned_ = false;
        }
        break;
    }
    return actions;
}

}  // namespace rustyolo::nft
