// Resource values (--memory, --cpus, --pids-limit and [resources]) as the resources plugin parses
// them (plugins/resources/plugin.cc: parse_memory, parse_cpus, parse_pids). The whole input is the
// value. A value that is accepted is within the limits the engine and the sandbox need.
#include "plugins/resources/resource_parse.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <cmath>
#include <string>

using namespace rustyolo;
namespace res = rustyolo::resources;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view value = fuzz::text(data, size);
    const std::string shown(value.substr(0, 64));
    try {
        res::Limit<std::int64_t> memory = res::parse_memory(value);
        if (memory.value)
            fuzz::check(*memory.value >= res::min_memory_bytes, "memory below the engine's minimum", shown);
        else
            fuzz::check(!memory.warning.empty(), "unlimited memory without a warning", shown);
    } catch (const sdk::InvalidInput &) {
    }
    try {
        res::Limit<double> cpus = res::parse_cpus(value);
        if (cpus.value)
            fuzz::check(std::isfinite(*cpus.value) && *cpus.value >= res::min_cpus && *cpus.value <= res::max_cpus,
                        "cpus out of range", shown);
        else
            fuzz::check(!cpus.warning.empty(), "unlimited cpus without a warning", shown);
    } catch (const sdk::InvalidInput &) {
    }
    try {
        res::Limit<std::int64_t> pids = res::parse_pids(value);
        if (pids.value)
            fuzz::check(*pids.value >= res::min_pids && *pids.value <= res::max_pids, "pids out of range", shown);
        else
            fuzz::check(!pids.warning.empty(), "unlimited pids without a warning", shown);
    } catch (const sdk::InvalidInput &) {
    }
    return 0;
}
