// The read-back comparison of the self-test, against listings shaped like `nft -j list table`.
#include "plugins/net-nftables/ruleset.hpp"
#include "plugins/net-nftables/firewall_check.hpp"

#include <gtest/gtest.h>

namespace rustyolo::nft {
namespace {

namespace json = boost::json;

Ruleset small_ruleset() {
    Ruleset r;
    r.sets.push_back(Set{"allow4", "ipv4_addr . inet_service", {"timeout"}, 65536, {}});
    r.sets.push_back(Set{"static4", "ipv4_addr . inet_service", {"interval"}, 0, {"10.0.0.0/8 . 443"}});
    r.chains.push_back(Chain{"blocked_output", "", "audit hook", {Rule{"drop", "counter drop"}}});
    r.chains.push_back(Chain{"output", "output", "", {Rule{"established", "x"}, Rule{"default-drop", "y"}}});
    return r;
}

// What nft -j prints for small_ruleset() when installed as meant.
json::value listing() {
    return json::parse(R"({"nftables": [
      {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
      {"table": {"family": "inet", "name": "rustyolo", "handle": 1}},
      {"set": {"family": "inet", "name": "allow4", "table": "rustyolo", "type": ["ipv4_addr", "inet_service"],
               "handle": 2, "size": 65536, "flags": ["timeout"]}},
      {"set": {"family": "inet", "name": "static4", "table": "rustyolo", "type": ["ipv4_addr", "inet_service"],
               "handle": 3, "flags": ["interval"], "elem": [{"concat": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, 443]}]}},
      {"chain": {"family": "inet", "table": "rustyolo", "name": "blocked_output", "handle": 4}},
      {"chain": {"family": "inet", "table": "rustyolo", "name": "output", "handle": 5, "type": "filter",
                 "hook": "output", "prio": 0, "policy": "drop"}},
      {"rule": {"family": "inet", "table": "rustyolo", "chain": "blocked_output", "handle": 6, "comment": "drop"}},
      {"rule": {"family": "inet", "table": "rustyolo", "chain": "output", "handle": 7, "comment": "established"}},
      {"rule": {"family": "inet", "table": "rustyolo", "chain": "output", "handle": 8, "comment": "default-drop"}}
    ]})");
}

std::string failures(const std::vector<Check> &checks) {
    std::string out;
    for (const Check &c : checks)
        if (!c.ok)
            out += c.name + ": " + c.detail + "\n";
    return out;
}

json::array &items(json::value &v) { return v.as_object()["nftables"].as_array(); }

json::object &find(json::value &v, const char *kind, const char *name) {
    for (json::value &item : items(v)) {
        auto &o = item.as_object();
        if (o.contains(kind) && o[kind].as_object()["name"] == name)
            return o[kind].as_object();
    }
    throw std::runtime_error("fixture lacks it");
}

TEST(NftSelfTest, AcceptsTheRulesetThatWasMeant) { EXPECT_EQ(failures(compare_ruleset(small_ruleset(), listing())), ""); }

TEST(NftSelfTest, NoticesAMissingTable) {
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), json::parse(R"({"nftables": []})"))), "");
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), json::parse("[]"))), "");
}

TEST(NftSelfTest, NoticesAnAcceptPolicy) {
    json::value v = listing();
    find(v, "chain", "output")["policy"] = "accept";
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), v)).find("policy \"accept\""), std::string::npos);
}

TEST(NftSelfTest, NoticesAWrongHookOrPriority) {
    json::value v = listing();
    find(v, "chain", "output")["prio"] = 10;
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), v)), "");
    json::value w = listing();
    find(w, "chain", "output")["hook"] = "postrouting";
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), w)), "");
}

TEST(NftSelfTest, NoticesAnExtraRule) {
    json::value v = listing();
    items(v).push_back(json::parse(
        R"({"rule": {"family": "inet", "table": "rustyolo", "chain": "output", "handle": 9, "comment": "sneaky"}})"));
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), v)).find("sneaky"), std::string::npos);
}

TEST(NftSelfTest, NoticesAnUncommentedRuleInserted) {
    json::value v = listing();
    items(v).insert(items(v).begin() + 7,
                    json::parse(R"({"rule": {"family": "inet", "table": "rustyolo", "chain": "output", "handle": 9}})"));
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), v)), "");
}

TEST(NftSelfTest, NoticesAMissingOrReorderedRule) {
    json::value v = listing();
    std::swap(items(v)[7], items(v)[8]);
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), v)), "");
}

TEST(NftSelfTest, NoticesSetProblems) {
    json::value v = listing();
    find(v, "set", "allow4")["flags"] = json::array{};
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), v)).find("lacks flag timeout"), std::string::npos);
    json::value w = listing();
    find(w, "set", "static4")["elem"] = json::array{};
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), w)).find("0 elements"), std::string::npos);
    json::value x = listing();
    find(x, "set", "allow4")["type"] = "ipv4_addr";
    EXPECT_NE(failures(compare_ruleset(small_ruleset(), x)), "");
}

TEST(NftSelfTest, IgnoresOtherTables) {
    json::value v = listing();
    items(v).push_back(json::parse(
        R"({"rule": {"family": "ip", "table": "nat", "chain": "OUTPUT", "handle": 1, "comment": "docker"}})"));
    items(v).push_back(json::parse(
        R"({"chain": {"family": "ip", "table": "nat", "name": "OUTPUT", "handle": 1, "type": "nat", "hook": "output", "prio": -100, "policy": "accept"}})"));
    EXPECT_EQ(failures(compare_ruleset(small_ruleset(), v)), "");
}

}  // namespace
}  // namespace rustyolo::nft
