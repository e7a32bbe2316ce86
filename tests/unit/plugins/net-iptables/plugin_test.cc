// The iptables plugin exists for kernels without nftables, so its module must load where there is
// no libnftables: it is built on net-common alone and names no libnftables among the shared
// libraries it needs (the dynamic section's NEEDED entries, as readelf -d lists them).
#include "core/host/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace rustyolo {
namespace {

// The NEEDED entries of a shared object ("libc.so.6", ...), read with `readelf -d`.
std::vector<std::string> needed_libraries(const std::string &path) {
    Captured result = run_capture({"readelf", "-d", "-W", path});
    EXPECT_EQ(result.status, 0) << "readelf -d " << path << ": " << result.err;
    std::vector<std::string> needed;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("(NEEDED)") == std::string::npos)
            continue;
        const std::size_t open = line.find('['), close = line.rfind(']');
        if (open != std::string::npos && close != std::string::npos && close > open)
            needed.push_back(line.substr(open + 1, close - open - 1));
    }
    return needed;
}

bool needs_libnftables(const std::vector<std::string> &needed) {
    for (const std::string &library : needed)
        if (library.rfind("libnftables", 0) == 0)
            return true;
    return false;
}

TEST(NetIptablesModule, NeedsNoLibnftables) {
    const std::string module = std::string(RUSTYOLO_TEST_PLUGIN_DIR) + "/net-iptables.so";
    ASSERT_TRUE(std::filesystem::exists(module)) << module << " is not built";
    const std::vector<std::string> needed = needed_libraries(module);
    ASSERT_FALSE(needed.empty()) << "readelf found no NEEDED entry in " << module;
    std::string list;
    for (const std::string &library : needed)
        list += " " + library;
    EXPECT_FALSE(needs_libnftables(needed)) << module << " needs:" << list;
}

// The twin: the same reading finds libnftables in the nftables plugin, so the check above can fail.
TEST(NetIptablesModule, TheCheckFindsLibnftablesInTheNftablesModule) {
    const std::string module = std::string(RUSTYOLO_TEST_PLUGIN_DIR) + "/net-nftables.so";
    ASSERT_TRUE(std::filesystem::exists(module)) << module << " is not built";
    EXPECT_TRUE(needs_libnftables(needed_libraries(module)));
}

}  // namespace
}  // namespace rustyolo
