#include "core/audit/summary.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
#include <vector>

namespace rustyolo {

namespace {

constexpr std::size_t kTopKeys = 5;

struct Layer {
    std::string_view prefix;    // of the summary key; "" for network (keys without a prefix)
    std::string_view singular;  // "connection blocked"
    std::string_view plural;    // "connections blocked"
    std::string_view hint;      // after " — ", or "" for none
};

// In the order the lines are printed.
constexpr std::array<Layer, 6> kLayers{{
    {"", "connection blocked", "connections blocked", "allow with --allow-domains NAME"},
    {"dns ", "DNS query refused", "DNS queries refused", "allow with --allow-domains NAME"},
    {"syscall ", "system call denied", "system calls denied", "see --seccomp-profile"},
    {"mount ", "mount refused", "mounts refused", "see docs/user-guide.md"},
    {"resource ", "resource limit hit", "resource limits hit", "see --memory, --pids-limit, --tmp-size and --home-size"},
    {"lifecycle ", "other block", "other blocks", ""},
}};

std::size_t layer_of(const std::string &key) {
    for (std::size_t i = 1; i < kLayers.size(); ++i)
        if (key.rfind(kLayers[i].prefix, 0) == 0)
            return i;
    return 0;
}

}  // namespace

std::string format_summary(const std::map<std::string, std::uint64_t> &blocked_counts, const std::string &location) {
    std::array<std::vector<std::pair<std::string, std::uint64_t>>, kLayers.size()> by_layer;
    for (const auto &[key, count] : blocked_counts)
        if (count > 0)
            by_layer[layer_of(key)].emplace_back(key, count);

    std::string out;
    for (std::size_t i = 0; i < kLayers.size(); ++i) {
        auto &keys = by_layer[i];
        if (keys.empty())
            continue;
        // Most frequent first; equal counts in key order (the map's order, kept by stable_sort).
        std::stable_sort(keys.begin(), keys.end(), [](const auto &a, const auto &b) { return a.second > b.second; });
        std::uint64_t total = 0;
        for (const auto &entry : keys)
            total += entry.second;
        const Layer &layer = kLayers[i];
        out += "rustyolo: " + std::to_string(total) + " " +
               std::string(total == 1 ? layer.singular : layer.plural) + ": ";
        for (std::size_t k = 0; k < keys.size() && k < kTopKeys; ++k) {
            if (k > 0)
                out += ", ";
            out += keys[k].first.substr(layer.prefix.size());
            if (keys[k].second > 1)
                out += " ×" + std::to_string(keys[k].second);
        }
        if (keys.size() > kTopKeys)
            out += " and " + std::to_string(keys.size() - kTopKeys) + " more";
        if (!layer.hint.empty())
            out += " — " + std::string(layer.hint);
        out += "\n";
    }
    if (out.empty())
        return "rustyolo: nothing was blocked (records: " + location + ")\n";
    return out + "rustyolo: records: " + location + "\n";
}

}  // namespace rustyolo
