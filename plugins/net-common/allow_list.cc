#include "plugins/net-common/allow_list.hpp"

#include <algorithm>
#include <stdexcept>

namespace rustyolo::net {

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    std::string out(name);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::vector<std::uint16_t> merge_ports(const std::vector<std::uint16_t> &a, const std::vector<std::uint16_t> &b) {
    std::vector<std::uint16_t> out = a;
    out.insert(out.end(), b.begin(), b.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void AllowList::add(std::string_view name, const std::vector<std::uint16_t> &ports) {
    std::string normal = normalize_name(name);
    if (normal.empty())
        throw std::invalid_argument("allow-list name is empty");
    bool wildcard = normal.size() > 2 && normal.compare(0, 2, "*.") == 0;
    std::string key = wildcard ? normal.substr(2) : normal;
    if (key.empty() || key.find('*') != std::string::npos || key.front() == '.' ||
        key.find("..") != std::string::npos)
        throw std::invalid_argument("allow-list name \"" + std::string(name) +
                                    "\" is not a host name or a *.suffix wildcard");
    auto &map = wildcard ? wildcard_ : exact_;
    auto &slot = map[key];
    slot = merge_ports(slot, ports);
}

void AllowList::add_all(const AllowList &other) {
    for (const auto &[key, ports] : other.exact_)
        exact_[key] = merge_ports(exact_[key], ports);
    for (const auto &[key, ports] : other.wildcard_)
        wildcard_[key] = merge_ports(wildcard_[key], ports);
}

std::optional<std::vector<std::uint16_t>> AllowList::match(std::string_view name) const {
    std::string normal = normalize_name(name);
    if (normal.empty())
        return std::nullopt;
    std::optional<std::vector<std::uint16_t>> ports;
    if (auto it = exact_.find(normal); it != exact_.end())
        ports = it->second;
    // Every proper suffix after a dot: "y.x.a.test" tries "x.a.test", "a.test", "test".
    for (std::size_t dot = normal.find('.'); dot != std::string::npos; dot = normal.find('.', dot + 1)) {
        if (dot == 0)
            continue;  // a leading empty label never matches a wildcard
        auto it = wildcard_.find(normal.substr(dot + 1));
        if (it != wildcard_.end())
            ports = merge_ports(ports.value_or(std::vector<std::uint16_t>{}), it->second);
    }
    return ports;
}

}  // namespace rustyolo::net
