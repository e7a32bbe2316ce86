#include "plugins/net-common/live_policy.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <gtest/gtest.h>

namespace rustyolo::net {
namespace {

PlanEgress entry(std::string kind, std::string value, std::vector<std::uint16_t> ports) {
    PlanEgress e;
    e.kind = std::move(kind);
    e.value = std::move(value);
    e.ports = std::move(ports);
    return e;
}

LivePolicy started() { return LivePolicy({entry("name", "start.test", {443}), entry("cidr", "10.1.0.0/16", {22})}, true); }

TEST(LivePolicy, AllowAddsALiveNameForTheFilterAndItsPorts) {
    LivePolicy policy = started();
    LivePolicy::Change change = policy.allow({entry("name", "new.test", {8443})});
    ASSERT_EQ(change.names.size(), 1u);
    EXPECT_EQ(change.names[0].first, "new.test");
    EXPECT_EQ(change.names[0].second, std::vector<std::uint16_t>{8443});
    EXPECT_FALSE(change.cidrs_changed);
    EXPECT_FALSE(policy.name_allows("new.test", 8443)) << "nothing changes before commit";
    policy.commit(change);
    EXPECT_TRUE(policy.name_allows("new.test", 8443));
    EXPECT_FALSE(policy.name_allows("new.test", 443));
    EXPECT_EQ(policy.name_ports(), (std::vector<std::uint16_t>{443, 8443}));
}

TEST(LivePolicy, WildcardsMatchSubdomainsOnly) {
    LivePolicy policy = started();
    policy.commit(policy.allow({entry("wildcard", "*.wild.test", {443})}));
    EXPECT_TRUE(policy.name_allows("a.wild.test", 443));
    EXPECT_FALSE(policy.name_allows("wild.test", 443));
}

TEST(LivePolicy, DenyTakesBackLivePortsAndTellsTheFilter) {
    LivePolicy policy = started();
    policy.commit(policy.allow({entry("name", "new.test", {80, 443})}));
    LivePolicy::Change change = policy.deny({entry("name", "new.test", {80})});
    ASSERT_EQ(change.names.size(), 1u);
    EXPECT_EQ(change.names[0].second, std::vector<std::uint16_t>{443});
    policy.commit(change);
    EXPECT_FALSE(policy.name_allows("new.test", 80));
    EXPECT_TRUE(policy.name_allows("new.test", 443));
    change = policy.deny({entry("name", "new.test", {443})});
    EXPECT_TRUE(change.names[0].second.empty()) << "taken back entirely";
    policy.commit(change);
    EXPECT_FALSE(policy.name_allows("new.test", 443));
    EXPECT_TRUE(policy.live_entries().empty());
}

TEST(LivePolicy, DenyOfAStartEntryIsRefusedNamingItAndChangesNothing) {
    LivePolicy policy = started();
    policy.commit(policy.allow({entry("name", "new.test", {443})}));
    try {
        policy.deny({entry("name", "new.test", {443}), entry("name", "start.test", {443})});
        FAIL() << "start entries stay";
    } catch (const sdk::InvalidInput &e) {
        EXPECT_NE(std::string(e.what()).find("start.test"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(policy.name_allows("new.test", 443));
    EXPECT_TRUE(policy.name_allows("start.test", 443));
}

TEST(LivePolicy, AStartNameStaysAllowedWhenALiveEntryForItGoes) {
    LivePolicy policy = started();
    policy.commit(policy.allow({entry("name", "start.test", {8080})}));
    policy.commit(policy.deny({entry("name", "start.test", {8080})}));
    EXPECT_TRUE(policy.name_allows("start.test", 443));
    EXPECT_FALSE(policy.name_allows("start.test", 8080));
}

TEST(LivePolicy, CidrEntriesAreCheckedAndCovered) {
    LivePolicy policy = LivePolicy({}, false);
    EXPECT_THROW(policy.allow({entry("cidr", "10.0.0.0/8", {443})}), sdk::InvalidInput) << "private without allow_lan";
    EXPECT_THROW(policy.allow({entry("cidr", "127.0.0.0/8", {443})}), sdk::InvalidInput);
    LivePolicy::Change change = policy.allow({entry("cidr", "203.0.113.0/24", {443})});
    EXPECT_TRUE(change.cidrs_changed);
    EXPECT_TRUE(change.names.empty());
    policy.commit(change);
    EXPECT_TRUE(policy.cidr_allows(false, "203.0.113.9", 443));
    EXPECT_FALSE(policy.cidr_allows(false, "203.0.113.9", 80));
    EXPECT_FALSE(policy.cidr_allows(false, "203.0.114.9", 443));
    ASSERT_EQ(policy.live_ranges().size(), 1u);
    EXPECT_EQ(policy.live_ranges()[0].prefix, "203.0.113.0/24");
}

TEST(LivePolicy, AnInvalidEntryRefusesTheWholeChange) {
    LivePolicy policy = started();
    EXPECT_THROW(policy.allow({entry("name", "ok.test", {443}), entry("name", "bad name", {443})}), sdk::InvalidInput);
    EXPECT_THROW(policy.allow({entry("name", "ok.test", {0})}), sdk::InvalidInput);
    EXPECT_FALSE(policy.name_allows("ok.test", 443));
}

TEST(LivePolicy, ChangesAndLiveEntriesAreBoundedAndABoundChangesNothing) {
    LivePolicy policy = started();
    std::vector<PlanEgress> many;
    for (std::size_t i = 0; i <= LivePolicy::kMaxEntriesPerChange; ++i)
        many.push_back(entry("name", "n" + std::to_string(i) + ".test", {443}));
    try {
        policy.allow(many);
        FAIL() << "a change of " << many.size() << " entries was taken";
    } catch (const sdk::InvalidInput &e) {
        EXPECT_NE(std::string(e.what()).find("at most 32"), std::string::npos) << e.what();
    }
    many.pop_back();
    std::size_t added = 0;
    while (added + many.size() <= LivePolicy::kMaxLiveEntries) {
        std::vector<PlanEgress> batch;
        for (std::size_t i = 0; i < many.size(); ++i)
            batch.push_back(entry("name", "b" + std::to_string(added + i) + ".test", {443}));
        policy.commit(policy.allow(batch));
        added += batch.size();
    }
    const std::size_t room = LivePolicy::kMaxLiveEntries - added;
    std::vector<PlanEgress> over;
    for (std::size_t i = 0; i <= room; ++i)
        over.push_back(entry("name", "over" + std::to_string(i) + ".test", {443}));
    EXPECT_THROW(policy.allow(over), sdk::InvalidInput);
    EXPECT_EQ(policy.live_entries().size(), added) << "a refused change changes nothing";
    over.pop_back();
    if (!over.empty())
        policy.commit(policy.allow(over));
    EXPECT_EQ(policy.live_entries().size(), LivePolicy::kMaxLiveEntries);
    // More ports for a live entry add no entry; a deny is always taken.
    policy.commit(policy.allow({entry("name", "b0.test", {8443})}));
    policy.commit(policy.deny({entry("name", "b0.test", {443, 8443})}));
    EXPECT_EQ(policy.live_entries().size(), LivePolicy::kMaxLiveEntries - 1);
}

}  // namespace
}  // namespace rustyolo::net
