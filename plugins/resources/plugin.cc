// resources: the built-in resource policy. Maps the resource hook's JSON (plugin_abi.h) onto the
// strict parsers of resource_parse.cc, and sizes the session's tmpfs mounts (/tmp, the home,
// /dev/shm) below the memory limit.
#include "plugins/resources/resource_parse.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <charconv>

namespace rustyolo::resources {
namespace {

namespace json = boost::json;

// The request field as text: a string as given, a JSON integer (a TOML integer in the config) in
// decimal, a number only where fractions make sense (cpus). nullopt when absent or null.
std::optional<std::string> field_text(const json::object &request, std::string_view key, bool number_ok) {
    auto it = request.find(key);
    if (it == request.end() || it->value().is_null())
        return std::nullopt;
    const json::value &value = it->value();
    if (value.is_string())
        return std::string(value.as_string());
    if (value.is_int64())
        return std::to_string(value.as_int64());
    if (value.is_uint64())
        return std::to_string(value.as_uint64());
    if (value.is_double() && number_ok) {
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.as_double());
        if (ec == std::errc())
            return std::string(buffer, end);
    }
    const bool size = key == "memory" || key == "tmp_size" || key == "home_size";
    throw sdk::InvalidInput("resource request field '" + std::string(key) + "' must be a string such as " +
                            (size ? "\"4g\"" : key == "cpus" ? "\"2\"" : "\"256\"") + ", or null");
}

template <class T>
json::value to_json(const Limit<T> &limit, json::array &warnings) {
    if (!limit.warning.empty())
        warnings.emplace_back(limit.warning);
    if (!limit.value)
        return nullptr;
    return json::value(*limit.value);
}

class Resources final : public sdk::Plugin, public sdk::ResourceHook {
public:
    using sdk::Plugin::Plugin;

    // A missing or null field means "not set": no limit from this plugin and no warning (the
    // defaults are the core's business). "unlimited" is an explicit choice and is warned about.
    json::value resolve(const json::object &request) override {
        json::object result{{"memory_bytes", nullptr}, {"cpus", nullptr}, {"pids", nullptr}};
        json::array warnings;
        std::optional<std::int64_t> memory_bytes;
        if (auto memory = field_text(request, "memory", false)) {
            Limit<std::int64_t> limit = parse_memory(*memory);
            memory_bytes = limit.value;
            result["memory_bytes"] = to_json(limit, warnings);
        }
        if (auto cpus = field_text(request, "cpus", true))
            result["cpus"] = to_json(parse_cpus(*cpus), warnings);
        if (auto pids = field_text(request, "pids_limit", false))
            result["pids"] = to_json(parse_pids(*pids), warnings);
        // The tmpfs mounts: always sized, and together below the memory limit.
        const Scratch scratch = resolve_scratch(memory_bytes, field_text(request, "tmp_size", false),
                                                field_text(request, "home_size", false));
        result["tmp_bytes"] = scratch.tmp_bytes;
        result["home_bytes"] = scratch.home_bytes;
        result["shm_bytes"] = scratch.shm_bytes;
        result["warnings"] = std::move(warnings);
        return result;
    }
};

}  // namespace
}  // namespace rustyolo::resources

RUSTYOLO_PLUGIN(rustyolo::resources::Resources, "resources", "1.0.0",
                "Strictly parses the memory, CPU and process limits and sizes the tmpfs mounts")
