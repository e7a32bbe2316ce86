#include "core/host/json_pretty.hpp"

namespace rustyolo {

namespace json = boost::json;

namespace {

void print(std::string &out, const json::value &value, int indent) {
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    const std::string close(static_cast<std::size_t>(indent), ' ');
    if (value.is_object()) {
        const auto &o = value.as_object();
        if (o.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t i = 0;
        for (const auto &kv : o) {
            out += pad + json::serialize(json::string(kv.key())) + ": ";
            print(out, kv.value(), indent + 2);
            out += ++i < o.size() ? ",\n" : "\n";
        }
        out += close + "}";
    } else if (value.is_array()) {
        const auto &a = value.as_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        std::size_t i = 0;
        for (const auto &v : a) {
            out += pad;
            print(out, v, indent + 2);
            out += ++i < a.size() ? ",\n" : "\n";
        }
        out += close + "]";
    } else {
        out += json::serialize(value);
    }
}

}  // namespace

std::string pretty_json(const json::value &value) {
    std::string out;
    print(out, value, 0);
    return out + "\n";
}

}  // namespace rustyolo
