#include "plugins/net-nftables/firewall_check.hpp"

#include "plugins/net-nftables/nft_context.hpp"

#include <map>
#include <set>
#include <stdexcept>

namespace rustyolo::nft {
namespace {

namespace json = boost::json;

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "(none)" : out;
}

std::string string_of(const json::object &object, std::string_view key) {
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// "ipv4_addr . inet_service" as nft -j writes it: "ipv4_addr" or ["ipv4_addr", "inet_service"].
std::string set_type(const json::object &set) {
    auto it = set.find("type");
    if (it == set.end())
        return {};
    if (it->value().is_string())
        return std::string(it->value().as_string());
    std::string out;
    if (it->value().is_array())
        for (const auto &part : it->value().as_array())
            if (part.is_string())
                out += (out.empty() ? "" : " . ") + std::string(part.as_string());
    return out;
}

std::size_t element_count(const json::object &set) {
    auto it = set.find("elem");
    return it != set.end() && it->value().is_array() ? it->value().as_array().size() : 0;
}

std::set<std::string> flags_of(const json::object &set) {
    std::set<std::string> flags;
    auto it = set.find("flags");
    if (it != set.end() && it->value().is_array())
        for (const auto &flag : it->value().as_array())
            if (flag.is_string())
                flags.insert(std::string(flag.as_string()));
    return flags;
}

}  // namespace

std::vector<Check> compare_ruleset(const Ruleset &expected, const json::value &listed) {
    std::map<std::string, json::object> sets;
    std::map<std::string, json::object> chains;
    std::map<std::string, std::vector<std::string>> rules;
    bool table_seen = false;
    const json::array *items = nullptr;
    if (listed.is_object())
        if (auto it = listed.as_object().find("nftables"); it != listed.as_object().end() && it->value().is_array())
            items = &it->value().as_array();
    if (items)
        for (const json::value &item : *items) {
            if (!item.is_object())
                continue;
            const json::object &o = item.as_object();
            auto in_table = [&](const json::object &x) {
                return string_of(x, "family") == table_family && string_of(x, "table") == table_name;
            };
            if (auto it = o.find("table"); it != o.end() && it->value().is_object())
                table_seen = table_seen || (string_of(it->value().as_object(), "family") == table_family &&
                                            string_of(it->value().as_object(), "name") == table_name);
            if (auto it = o.find("set"); it != o.end() && it->value().is_object() && in_table(it->value().as_object()))
                sets[string_of(it->value().as_object(), "name")] = it->value().as_object();
            if (auto it = o.find("chain"); it != o.end() && it->value().is_object() && in_table(it->value().as_object()))
                chains[string_of(it->value().as_object(), "name")] = it->value().as_object();
            if (auto it = o.find("rule"); it != o.end() && it->value().is_object() && in_table(it->value().as_object()))
                rules[string_of(it->value().as_object(), "chain")].push_back(string_of(it->value().as_object(), "comment"));
        }

    std::vector<Check> checks;
    checks.push_back(Check{"ruleset: table", table_seen,
                           table_seen ? "table inet rustyolo is installed" : "table inet rustyolo is missing"});

    std::vector<std::string> chain_problems;
    std::vector<std::string> rule_problems;
    std::set<std::string> expected_chains;
    for (const Chain &chain : expected.chains) {
        expected_chains.insert(chain.name);
        auto it = chains.find(chain.name);
        if (it == chains.end()) {
            chain_problems.push_back("chain " + chain.name + " is missing");
            continue;
        }
        const json::object &c = it->second;
        if (!chain.hook.empty()) {
            auto prio = c.find("prio");
            bool prio_ok = prio != c.end() && prio->value().is_number() && prio->value().to_number<std::int64_t>() == 0;
            if (string_of(c, "type") != "filter" || string_of(c, "hook") != chain.hook || !prio_ok)
                chain_problems.push_back("chain " + chain.name + " is not a filter chain on hook " + chain.hook +
                                         " at priority 0");
            if (string_of(c, "policy") != "drop")
                chain_problems.push_back("chain " + chain.name + " has policy \"" + string_of(c, "policy") +
                                         "\", not drop");
        } else if (c.contains("hook")) {
            chain_problems.push_back("chain " + chain.name + " should not be a base chain");
        }
        std::vector<std::string> meant;
        for (const Rule &rule : chain.rules)
            meant.push_back(rule.comment);
        const std::vector<std::string> &live = rules[chain.name];
        if (live != meant)
            rule_problems.push_back("chain " + chain.name + ": expected rules [" + join(meant) + "], found [" +
                                    join(live) + "]");
    }
    for (const auto &[name, chain] : chains)
        if (!expected_chains.count(name))
            chain_problems.push_back("unexpected chain " + name);
    checks.push_back(Check{"ruleset: chains", chain_problems.empty(),
                           chain_problems.empty() ? "output, input and forward hooked for IPv4 and IPv6 (inet) with "
                                                    "policy drop; audit hook chains present"
                                                  : join(chain_problems)});
    checks.push_back(Check{"ruleset: rules", rule_problems.empty(),
                           rule_problems.empty() ? "every rule present, in order, nothing else" : join(rule_problems)});

    std::vector<std::string> set_problems;
    std::set<std::string> expected_sets;
    for (const Set &set : expected.sets) {
        expected_sets.insert(set.name);
        auto it = sets.find(set.name);
        if (it == sets.end()) {
            set_problems.push_back("set " + set.name + " is missing");
            continue;
        }
        if (set_type(it->second) != set.type)
            set_problems.push_back("set " + set.name + " has type \"" + set_type(it->second) + "\", not \"" + set.type + "\"");
        std::set<std::string> flags = flags_of(it->second);
        for (const std::string &flag : set.flags)
            if (!flags.count(flag))
                set_problems.push_back("set " + set.name + " lacks flag " + flag);
        if ((set.flags == std::vector<std::string>{"interval"} || set.flags.empty()) &&
            (set.name.rfind("static", 0) == 0 || set.name.rfind("cidr", 0) == 0) &&
            element_count(it->second) != set.elements.size())
            set_problems.push_back("set " + set.name + " has " + std::to_string(element_count(it->second)) +
                                   " elements, not " + std::to_string(set.elements.size()));
    }
    for (const auto &[name, set] : sets)
        if (!expected_sets.count(name))
            set_problems.push_back("unexpected set " + name);
    checks.push_back(Check{"ruleset: sets", set_problems.empty(),
                           set_problems.empty() ? "allow4/allow6 (timeout), cidr4_N/cidr6_N/static4/static6 (CIDR entries), "
                                                  "never4/never6 (guard) as meant"
                                                : join(set_problems)});
    return checks;
}

std::vector<Check> guard_set_checks(const Ruleset &expected) {
    std::vector<Check> checks;
    // The guard sets, as the kernel sees them.
    std::vector<std::string> missing;
    NftContext nft;
    for (const Set &set : expected.sets) {
        if (set.name != "never4" && set.name != "never6")
            continue;
        for (const std::string &range : set.elements) {
            std::string address = range.substr(0, range.find('/'));
            try {
                nft.run("get element inet rustyolo " + set.name + " { " + address + " }", "get element");
            } catch (const NftError &) {
                missing.push_back(range);
            }
        }
    }
    checks.push_back(Check{"guard ranges", missing.empty(),
                           missing.empty() ? "loopback, link-local/metadata, multicast and reserved ranges (and "
                                             "private ones unless --allow-lan) are in the guard sets"
                                           : "not in the guard sets: " + join(missing)});
    return checks;
}

}  // namespace rustyolo::nft
