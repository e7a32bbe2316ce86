#include "plugins/net-nftables/feed_batch.hpp"

#include <gtest/gtest.h>

namespace rustyolo::nft {
namespace {

using Kind = FeedAction::Kind;
using net::feed::LineSplitter;

std::vector<FeedAction> feed(BatchAssembler &assembler, const std::vector<std::string> &lines) {
    std::vector<FeedAction> all;
    for (const std::string &line : lines)
        for (FeedAction &action : assembler.on_line(LineSplitter::Item{line, false}))
            all.push_back(std::move(action));
    return all;
}

std::vector<Kind> kinds(const std::vector<FeedAction> &actions) {
    std::vector<Kind> out;
    for (const auto &a : actions)
        out.push_back(a.kind);
    return out;
}

AdmissionPolicy policy(bool allow_lan = false) {
    AdmissionPolicy p;
    p.allow_lan = allow_lan;
    p.ports = {80, 443};
    return p;
}

TEST(NftFeedBatch, ABatchIsAppliedAtItsEnd) {
    BatchAssembler assembler;
    auto actions = feed(assembler, {"ready", "7 4 1.2.3.4 300 443", "7 6 2001:db8::1 60 80,443", "7 end x.test"});
    ASSERT_EQ(kinds(actions), (std::vector<Kind>{Kind::ready, Kind::apply}));
    EXPECT_EQ(actions[1].id, 7u);
    ASSERT_EQ(actions[1].addresses.size(), 2u);
    EXPECT_EQ(actions[1].addresses[1].address, "2001:db8::1");
}

TEST(NftFeedBatch, AMalformedLineFailsTheOpenBatch) {
    BatchAssembler assembler;
    auto actions = feed(assembler, {"7 4 1.2.3.4 300 443", "7 4 1.2.3.999 300 443", "7 end x.test"});
    EXPECT_EQ(kinds(actions), (std::vector<Kind>{Kind::error, Kind::fail}));
    EXPECT_EQ(actions[1].id, 7u);
    // The next batch is independent.
    actions = feed(assembler, {"8 4 1.2.3.4 300 443", "8 end x.test"});
    EXPECT_EQ(kinds(actions), std::vector<Kind>{Kind::apply});
}

TEST(NftFeedBatch, AnOverlongLineFailsTheOpenBatch) {
    BatchAssembler assembler;
    feed(assembler, {"7 4 1.2.3.4 300 443"});
    auto actions = assembler.on_line(LineSplitter::Item{"", true});
    EXPECT_EQ(kinds(actions), std::vector<Kind>{Kind::error});
    EXPECT_EQ(kinds(feed(assembler, {"7 end x.test"})), std::vector<Kind>{Kind::fail});
}

TEST(NftFeedBatch, InterleavedBatchesFail) {
    BatchAssembler assembler;
    auto actions = feed(assembler, {"7 4 1.2.3.4 300 443", "8 4 1.2.3.5 300 443", "8 end x.test"});
    EXPECT_EQ(kinds(actions), (std::vector<Kind>{Kind::error, Kind::fail, Kind::apply}));
    EXPECT_EQ(actions[1].id, 7u);
    EXPECT_EQ(actions[2].id, 8u);
}

TEST(NftFeedBatch, AnEndWithoutItsBatchFails) {
    BatchAssembler assembler;
    EXPECT_EQ(kinds(feed(assembler, {"9 end x.test"})), (std::vector<Kind>{Kind::error, Kind::fail}));
}

TEST(NftFeedBatch, ReadyTwiceIsAnError) {
    BatchAssembler assembler;
    EXPECT_EQ(kinds(feed(assembler, {"ready", "ready"})), (std::vector<Kind>{Kind::ready, Kind::error}));
}

TEST(NftFeedBatch, TooManyAddressesFailTheBatch) {
    BatchAssembler assembler;
    std::vector<std::string> lines;
    for (int i = 0; i < 257; ++i)
        lines.push_back("3 4 1.2." + std::to_string(i / 250) + "." + std::to_string(i % 250) + " 60 443");
    lines.push_back("3 end x.test");
    EXPECT_EQ(kinds(feed(assembler, lines)), (std::vector<Kind>{Kind::error, Kind::fail}));
}

TEST(NftFeedBatch, TheBatchCarriesTheNameItWasResolvedFrom) {
    BatchAssembler assembler;
    auto actions = feed(assembler, {"7 4 1.2.3.4 300 443", "7 end api.allowed.test"});
    ASSERT_EQ(kinds(actions), std::vector<Kind>{Kind::apply});
    EXPECT_EQ(actions[0].name, "api.allowed.test");
}

TEST(NftFeedBatch, DenyAndAllowLinesAreReported) {
    BatchAssembler assembler;
    auto actions = feed(assembler, {"deny TXT udp type tunnel.allowed.test", "allow A tcp allowed.test"});
    ASSERT_EQ(kinds(actions), (std::vector<Kind>{Kind::query, Kind::query}));
    EXPECT_FALSE(actions[0].allowed);
    EXPECT_EQ(actions[0].reason, net::feed::DenyReason::type);
    EXPECT_EQ(actions[0].query, (net::feed::QueryReport{"TXT", false, "tunnel.allowed.test"}));
    EXPECT_TRUE(actions[1].allowed);
    EXPECT_EQ(actions[1].query, (net::feed::QueryReport{"A", true, "allowed.test"}));
}

TEST(NftFeedBatch, AQueryLineInsideABatchDoesNotDisturbIt) {
    BatchAssembler assembler;
    auto actions = feed(assembler, {"7 4 1.2.3.4 300 443", "deny A udp name x.blocked.test", "7 end x.test"});
    EXPECT_EQ(kinds(actions), (std::vector<Kind>{Kind::query, Kind::apply}));
}

TEST(NftFeedLife, TheAckPromisesTheShortestClampedTtlOfTheBatch) {
    AdmissionPolicy p = policy();
    EXPECT_EQ(batch_life(admit({{false, "1.2.3.4", 300, {443}}, {false, "1.2.3.5", 100, {443}}}, p), p), 100u);
    EXPECT_EQ(batch_life(admit({{false, "1.2.3.4", 1, {443}}}, p), p), p.ttl_min);
    EXPECT_EQ(batch_life(admit({{false, "1.2.3.4", 99999, {443}}}, p), p), p.ttl_max);
    // Nothing to promise when the policy refused an address, or nothing was accepted.
    EXPECT_EQ(batch_life(admit({{false, "1.2.3.4", 300, {443}}, {false, "127.0.0.1", 300, {443}}}, p), p), 0u);
    EXPECT_EQ(batch_life(admit({}, p), p), 0u);
}

TEST(NftFeedLife, ThePromisedLifeNeverExceedsWhatTheSetElementGets) {
    AdmissionPolicy p = policy();
    for (std::uint32_t ttl : {0u, 1u, 29u, 30u, 31u, 300u, 3599u, 3600u, 3601u, 100000u})
        EXPECT_LT(batch_life(admit({{false, "1.2.3.4", ttl, {443}}}, p), p), element_timeout(ttl, p)) << ttl;
}

TEST(NftNameMemory, RemembersTheNewestNameAndForgetsTheOldestWhenFull) {
    NameMemory names(2);
    EXPECT_EQ(names.name_for("1.2.3.4"), std::nullopt);
    names.remember("1.2.3.4", "a.test");
    names.remember("1.2.3.4", "b.test");
    EXPECT_EQ(names.name_for("1.2.3.4"), "b.test");
    names.remember("1.2.3.5", "c.test");
    names.remember("1.2.3.4", "d.test");  // refreshes 1.2.3.4: 1.2.3.5 is now the oldest
    names.remember("2001:db8::1", "e.test");
    EXPECT_EQ(names.size(), 2u);
    EXPECT_EQ(names.name_for("1.2.3.5"), std::nullopt);
    EXPECT_EQ(names.name_for("1.2.3.4"), "d.test");
    EXPECT_EQ(names.name_for("2001:db8::1"), "e.test");
}

TEST(NftFeedAdmission, ElementsOutliveTheAnswerByAGrace) {
    AdmissionPolicy p = policy();
    EXPECT_EQ(element_timeout(0, p), 35u);
    EXPECT_EQ(element_timeout(300, p), 330u);
    EXPECT_EQ(element_timeout(99999, p), 3960u);
}

TEST(NftFeedAdmission, ElementScriptAddsDeletesAndAddsEachElementOnce) {
    std::string script = element_script({{false, "1.2.3.4", 10, {80, 443}},
                                         {false, "1.2.3.4", 900, {443}},
                                         {true, "2001:db8::1", 99999, {443}}},
                                        policy());
    EXPECT_EQ(script,
              "add element inet rustyolo allow4 { 1.2.3.4 . 80 timeout 35s, 1.2.3.4 . 443 timeout 990s }\n"
              "delete element inet rustyolo allow4 { 1.2.3.4 . 80, 1.2.3.4 . 443 }\n"
              "add element inet rustyolo allow4 { 1.2.3.4 . 80 timeout 35s, 1.2.3.4 . 443 timeout 990s }\n"
              "add element inet rustyolo allow6 { 2001:db8::1 . 443 timeout 3960s }\n"
              "delete element inet rustyolo allow6 { 2001:db8::1 . 443 }\n"
              "add element inet rustyolo allow6 { 2001:db8::1 . 443 timeout 3960s }\n");
    EXPECT_EQ(element_script({}, policy()), "");
}

TEST(NftFeedFresh, AnElementThatOutlivesTheAnswerNeedsNoUpdate) {
    FreshElements fresh;
    AdmissionPolicy p = policy();
    auto t0 = FreshElements::Clock::now();
    std::vector<AnswerAddress> answer = {{false, "1.2.3.4", 300, {80, 443}}};
    EXPECT_EQ(fresh.needing_update(answer, p, t0).size(), 1u);
    fresh.applied(answer, p, t0);
    // The same answer 20 s later (a constant TTL): the element (330 s) still outlives it (300 s).
    EXPECT_TRUE(fresh.needing_update(answer, p, t0 + std::chrono::seconds(20)).empty());
    // A caching resolver counts the TTL down: no update either.
    std::vector<AnswerAddress> counted_down = {{false, "1.2.3.4", 200, {80, 443}}};
    EXPECT_TRUE(fresh.needing_update(counted_down, p, t0 + std::chrono::seconds(100)).empty());
    // After the grace, the element must be refreshed.
    EXPECT_EQ(fresh.needing_update(answer, p, t0 + std::chrono::seconds(31)).size(), 1u);
    // A longer TTL, or a port not yet in the set, needs an update of just that.
    std::vector<AnswerAddress> longer = {{false, "1.2.3.4", 3000, {443}}};
    EXPECT_EQ(fresh.needing_update(longer, p, t0).size(), 1u);
    std::vector<AnswerAddress> more_ports = {{false, "1.2.3.4", 300, {22, 443}}};
    auto reduced = fresh.needing_update(more_ports, p, t0);
    ASSERT_EQ(reduced.size(), 1u);
    EXPECT_EQ(reduced[0].ports, std::vector<std::uint16_t>{22});
}

}  // namespace
}  // namespace rustyolo::nft

namespace rustyolo::nft {
namespace {

TEST(ElementOrigins, AnElementGoesOnlyWhenNoneOfItsNamesIsAllowedAnyMore) {
    AdmissionPolicy policy;
    policy.ports = {443};
    ElementOrigins origins;
    const auto now = ElementOrigins::Clock::now();
    origins.record({AnswerAddress{false, "198.18.0.1", 60, {443}}}, "a.test", policy, now);
    origins.record({AnswerAddress{false, "198.18.0.1", 60, {443}}}, "b.test", policy, now);
    origins.record({AnswerAddress{false, "198.18.0.2", 60, {443}}}, "a.test", policy, now);
    // a.test is denied; b.test still allowed: only the address a.test alone put there goes.
    auto allowed = [](const std::string &name, std::uint16_t) { return name == "b.test"; };
    std::vector<Element> removed = origins.withdraw(allowed);
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].address, "198.18.0.2");
    EXPECT_EQ(removed[0].port, 443);
    EXPECT_TRUE(origins.contains(false, "198.18.0.1", 443));
    EXPECT_FALSE(origins.contains(false, "198.18.0.2", 443));
    // Then b.test too.
    removed = origins.withdraw([](const std::string &, std::uint16_t) { return false; });
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].address, "198.18.0.1");
    EXPECT_EQ(origins.size(), 0u);
}

TEST(ElementOrigins, APortOfAStillAllowedNameStaysWhileAnotherPortGoes) {
    AdmissionPolicy policy;
    policy.ports = {443, 7000};
    ElementOrigins origins;
    origins.record({AnswerAddress{false, "198.18.0.1", 60, {443, 7000}}}, "a.test", policy,
                   ElementOrigins::Clock::now());
    std::vector<Element> removed = origins.withdraw([](const std::string &, std::uint16_t port) { return port == 443; });
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].port, 7000);
    EXPECT_TRUE(origins.contains(false, "198.18.0.1", 443));
}

// An element whose set timeout passed may still carry an open connection (conntrack keeps an
// established flow without the set): a deny of its name must still find it, to end that
// connection, however many other answers were recorded since.
TEST(ElementOrigins, AnExpiredElementIsStillWithdrawnAfterManyOtherAnswers) {
    AdmissionPolicy policy;
    policy.ports = {443};
    ElementOrigins origins;
    origins.set_deniable([](const std::string &name) { return name == "denied.test"; });  // a live entry
    const auto start = ElementOrigins::Clock::now();
    origins.record({AnswerAddress{false, "198.18.0.1", 60, {443}}}, "denied.test", policy, start);
    origins.record({AnswerAddress{false, "198.18.0.2", 60, {443}}}, "start.test", policy, start);  // no deny takes it
    // Later (the first element timed out in the sets), many answers for a still-allowed name.
    const auto later = start + std::chrono::hours(1);
    for (int i = 0; i < 5000; ++i)
        origins.record({AnswerAddress{false, "198.19." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                                      60, {443}}},
                       "cdn.allowed.test", policy, later);
    std::vector<Element> removed =
        origins.withdraw([](const std::string &name, std::uint16_t) { return name != "denied.test"; });
    ASSERT_EQ(removed.size(), 1u) << "the denied name's element was forgotten: its open connection is not ended";
    EXPECT_EQ(removed[0].address, "198.18.0.1");
    // The expired origin of a name no deny can take back was pruned (the map stays bounded).
    EXPECT_FALSE(origins.contains(false, "198.18.0.2", 443));
}

// Twin: without that flood the same element is withdrawn.
TEST(ElementOrigins, AnExpiredElementIsWithdrawn) {
    AdmissionPolicy policy;
    policy.ports = {443};
    ElementOrigins origins;
    const auto start = ElementOrigins::Clock::now();
    origins.record({AnswerAddress{false, "198.18.0.1", 60, {443}}}, "denied.test", policy, start);
    origins.record({AnswerAddress{false, "198.19.0.1", 60, {443}}}, "cdn.allowed.test", policy,
                   start + std::chrono::hours(1));
    std::vector<Element> removed =
        origins.withdraw([](const std::string &name, std::uint16_t) { return name != "denied.test"; });
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].address, "198.18.0.1");
}

TEST(BatchAssembler, ThePoliciesConfirmationIsItsOwnAction) {
    BatchAssembler assembler;
    std::vector<FeedAction> actions = assembler.on_line({"policy 4 done", false});
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, FeedAction::Kind::policy_done);
    EXPECT_EQ(actions[0].id, 4u);
}

}  // namespace
}  // namespace rustyolo::nft
