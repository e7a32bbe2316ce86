#include "plugins/net-nftables/drop_counters.hpp"

#include "plugins/net-nftables/nft_context.hpp"
#include "plugins/net-nftables/ruleset.hpp"

#include <string>

namespace rustyolo::nft {

namespace json = boost::json;

std::uint64_t counter_packets(const json::value &listing) {
    std::uint64_t total = 0;
    if (!listing.is_object())
        return 0;
    auto items = listing.as_object().find("nftables");
    if (items == listing.as_object().end() || !items->value().is_array())
        return 0;
    for (const json::value &item : items->value().as_array()) {
        const json::object *o = item.if_object();
        auto rule = o ? o->find("rule") : nullptr;
        if (!o || rule == o->end() || !rule->value().is_object())
            continue;
        auto expr = rule->value().as_object().find("expr");
        if (expr == rule->value().as_object().end() || !expr->value().is_array())
            continue;
        for (const json::value &statement : expr->value().as_array()) {
            const json::object *s = statement.if_object();
            auto counter = s ? s->find("counter") : nullptr;
            if (!s || counter == s->end() || !counter->value().is_object())
                continue;
            auto packets = counter->value().as_object().find("packets");
            if (packets != counter->value().as_object().end() && packets->value().is_number())
                total += packets->value().to_number<std::uint64_t>();
        }
    }
    return total;
}

std::uint64_t read_drop_counters(NftContext &nft) {
    std::uint64_t total = 0;
    for (const char *chain : blocked_chains) {
        std::string what = std::string("reading the counter of chain ") + chain;
        std::string text = nft.run(std::string("list chain ") + table_family + " " + table_name + " " + chain, what);
        json::error_code ec;
        json::value listing = json::parse(text, ec);
        if (ec)
            throw NftError(what + ": libnftables printed no valid JSON");
        total += counter_packets(listing);
    }
    return total;
}

}  // namespace rustyolo::nft
