// The firewall's drop counters as `nft -j list chain` reports them.
#include "plugins/net-nftables/drop_counters.hpp"

#include <gtest/gtest.h>

namespace rustyolo::nft {
namespace {

TEST(NftDropCounters, SumsThePacketsOfEveryCounterInTheListing) {
    auto listing = boost::json::parse(R"({"nftables": [
        {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
        {"chain": {"family": "inet", "table": "rustyolo", "name": "blocked_output", "handle": 1}},
        {"rule": {"family": "inet", "table": "rustyolo", "chain": "blocked_output", "handle": 4,
                  "comment": "log-drop",
                  "expr": [{"counter": {"packets": 12, "bytes": 720}},
                           {"log": {"prefix": "blocked_output", "group": 1700, "snaplen": 128}},
                           {"drop": null}]}},
        {"rule": {"family": "inet", "table": "rustyolo", "chain": "blocked_output", "handle": 5,
                  "expr": [{"counter": {"packets": 3, "bytes": 180}}, {"drop": null}]}}]})");
    EXPECT_EQ(counter_packets(listing), 15u);
}

TEST(NftDropCounters, NoCounterIsZero) {
    EXPECT_EQ(counter_packets(boost::json::parse(R"({"nftables": [{"rule": {"expr": [{"drop": null}]}}]})")), 0u);
    EXPECT_EQ(counter_packets(boost::json::parse(R"({"nftables": []})")), 0u);
    EXPECT_EQ(counter_packets(boost::json::parse(R"([1, 2])")), 0u);
}

}  // namespace
}  // namespace rustyolo::nft
