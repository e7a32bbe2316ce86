#include "plugins/resources/resource_parse.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rustyolo::resources {
namespace {

constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * KiB;
constexpr std::int64_t GiB = 1024 * MiB;
constexpr std::int64_t TiB = 1024 * GiB;

// The rejected values every parser shares: signs, spaces, exponents, hex, garbage, empty, NaN.
const std::vector<std::string> common_rejects = {
    "0", "-1", "1e12", "1E3", "4 g", " 4", "4\t", "", "0x10", "+4", "nan", "NaN", "inf", "Infinity",
    "abc", "4;x", "$(id)", "4\n", std::string(33, '1'), "99999999999999999999999", "unlimitedx", "un limited"};

// --- memory ------------------------------------------------------------------------------------

TEST(ResourceMemory, AcceptsSizesWithBinaryUnits) {
    struct Case {
        const char *text;
        std::int64_t bytes;
    };
    for (const Case &c : std::vector<Case>{{"4g", 4 * GiB},
                                           {"4G", 4 * GiB},
                                           {"4gb", 4 * GiB},
                                           {"4GB", 4 * GiB},
                                           {"4gB", 4 * GiB},
                                           {"512m", 512 * MiB},
                                           {"512MB", 512 * MiB},
                                           {"8192k", 8192 * KiB},
                                           {"2t", 2 * TiB},
                                           {"268435456", 268435456},
                                           {"268435456b", 268435456},
                                           {"1.5g", GiB + GiB / 2},
                                           {"0.5g", GiB / 2},
                                           {"1.25g", GiB + GiB / 4},
                                           {"6m", 6 * MiB},
                                           {"6291456", 6291456},
                                           {"0007m", 7 * MiB}}) {
        SCOPED_TRACE(c.text);
        auto limit = parse_memory(c.text);
        ASSERT_TRUE(limit.value.has_value());
        EXPECT_EQ(*limit.value, c.bytes);
        EXPECT_TRUE(limit.warning.empty());
    }
}

TEST(ResourceMemory, UnlimitedIsNoLimitWithAWarning) {
    for (const char *text : {"unlimited", "UNLIMITED", "Unlimited"}) {
        SCOPED_TRACE(text);
        auto limit = parse_memory(text);
        EXPECT_FALSE(limit.value.has_value());
        EXPECT_NE(limit.warning.find("no memory limit"), std::string::npos) << limit.warning;
    }
}

TEST(ResourceMemory, RejectsMalformedValues) {
    std::vector<std::string> rejects = common_rejects;
    rejects.insert(rejects.end(), {"4g;x", "4gg", "4gib", "4kb4", "g", "1.5", "1.5b", "4.g", ".5g", "1.2345g",
                                   "4,5g", "4_g", "9999999999t", "9223372036854775808", "4p", "4mm"});
    for (const std::string &text : rejects) {
        SCOPED_TRACE(text);
        EXPECT_THROW(parse_memory(text), sdk::InvalidInput);
    }
}

TEST(ResourceMemory, RejectsValuesBelowDockersMinimumOf6m) {
    for (const char *text : {"1024k", "5m", "6291455", "1", "1b", "0.005g"}) {
        SCOPED_TRACE(text);
        try {
            parse_memory(text);
            ADD_FAILURE() << "accepted";
        } catch (const sdk::InvalidInput &e) {
            EXPECT_NE(std::string(e.what()).find("minimum of 6m"), std::string::npos) << e.what();
        }
    }
}

TEST(ResourceMemory, AcceptsTheLargestSignedSize) {
    EXPECT_EQ(*parse_memory("9223372036854775807").value, INT64_MAX);
}

TEST(ResourceMemory, ErrorNamesFlagValueReasonAndExample) {
    try {
        parse_memory("4g;x");
        FAIL() << "accepted";
    } catch (const sdk::InvalidInput &e) {
        EXPECT_STREQ(e.what(), "--memory \"4g;x\": unexpected characters after \"4g\"; use a size like 4g or "
                               "512m, or \"unlimited\"");
    }
}

TEST(ResourceMemory, ErrorUsesTheGivenKeyName) {
    try {
        parse_memory("lots", "memory");
        FAIL() << "accepted";
    } catch (const sdk::InvalidInput &e) {
        EXPECT_EQ(std::string(e.what()).rfind("memory \"lots\": ", 0), 0u) << e.what();
    }
}

TEST(ResourceMemory, ErrorsExplainExponentsHexAndZero) {
    auto message = [](const char *text) {
        try {
            parse_memory(text);
        } catch (const sdk::InvalidInput &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(message("1e12").find("exponent"), std::string::npos);
    EXPECT_NE(message("0x10").find("hexadecimal"), std::string::npos);
    EXPECT_NE(message("0").find("\"unlimited\""), std::string::npos);
    EXPECT_NE(message("-1").find("negative"), std::string::npos);
    EXPECT_NE(message("4 g").find("spaces"), std::string::npos);
    EXPECT_NE(message(std::string(40, '9').c_str()).find("too long"), std::string::npos);
}

TEST(ResourceMemory, ErrorEscapesControlCharactersInTheValue) {
    try {
        parse_memory("4g\n");
        FAIL() << "accepted";
    } catch (const sdk::InvalidInput &e) {
        std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        EXPECT_NE(message.find("\\x0a"), std::string::npos) << message;
    }
}

// --- cpus --------------------------------------------------------------------------------------

TEST(ResourceCpus, AcceptsDecimalCpuCounts) {
    struct Case {
        const char *text;
        double cpus;
    };
    for (const Case &c : std::vector<Case>{{"0.5", 0.5},
                                           {"4", 4.0},
                                           {"1.25", 1.25},
                                           {"0.125", 0.125},
                                           {"0.01", 0.01},
                                           {"2.0", 2.0},
                                           {"1024", 1024.0},
                                           {"1024.000", 1024.0}}) {
        SCOPED_TRACE(c.text);
        auto limit = parse_cpus(c.text);
        ASSERT_TRUE(limit.value.has_value());
        EXPECT_DOUBLE_EQ(*limit.value, c.cpus);
        EXPECT_TRUE(limit.warning.empty());
    }
}

TEST(ResourceCpus, UnlimitedIsNoLimitWithAWarning) {
    auto limit = parse_cpus("unlimited");
    EXPECT_FALSE(limit.value.has_value());
    EXPECT_NE(limit.warning.find("no CPU limit"), std::string::npos) << limit.warning;
}

TEST(ResourceCpus, RejectsMalformedValues) {
    std::vector<std::string> rejects = common_rejects;
    rejects.insert(rejects.end(), {"0.0", "0.000", "0.1234", ".5", "5.", "1,5", "1/2", "2c", "4g", "1.2.3"});
    for (const std::string &text : rejects) {
        SCOPED_TRACE(text);
        EXPECT_THROW(parse_cpus(text), sdk::InvalidInput);
    }
}

TEST(ResourceCpus, RejectsValuesOutsideDockersRange) {
    for (const char *text : {"0.001", "0.009", "1025", "1024.001", "100000"}) {
        SCOPED_TRACE(text);
        EXPECT_THROW(parse_cpus(text), sdk::InvalidInput);
    }
}

TEST(ResourceCpus, ErrorNamesFlagValueAndExample) {
    try {
        parse_cpus("0.1234");
        FAIL() << "accepted";
    } catch (const sdk::InvalidInput &e) {
        std::string message = e.what();
        EXPECT_EQ(message.rfind("--cpus \"0.1234\": ", 0), 0u) << message;
        EXPECT_NE(message.find("3 decimals"), std::string::npos) << message;
        EXPECT_NE(message.find("like 2 or 0.5"), std::string::npos) << message;
    }
}

// --- pids --------------------------------------------------------------------------------------

TEST(ResourcePids, AcceptsWholeProcessCounts) {
    for (std::int64_t count : {16, 256, 4096, 4194304}) {
        SCOPED_TRACE(count);
        auto limit = parse_pids(std::to_string(count));
        ASSERT_TRUE(limit.value.has_value());
        EXPECT_EQ(*limit.value, count);
    }
}

TEST(ResourcePids, UnlimitedIsNoLimitWithAWarning) {
    auto limit = parse_pids("unlimited");
    EXPECT_FALSE(limit.value.has_value());
    EXPECT_NE(limit.warning.find("fork bomb"), std::string::npos) << limit.warning;
}

TEST(ResourcePids, RejectsMalformedValues) {
    std::vector<std::string> rejects = common_rejects;
    rejects.insert(rejects.end(), {"256.0", "256.5", "0x100", "256k", "1,000", "4194305", "18446744073709551616"});
    for (const std::string &text : rejects) {
        SCOPED_TRACE(text);
        EXPECT_THROW(parse_pids(text), sdk::InvalidInput);
    }
}

TEST(ResourcePids, FewerThan16IsRefusedBecauseNothingCouldStart) {
    for (const char *text : {"1", "8", "15"}) {
        SCOPED_TRACE(text);
        try {
            parse_pids(text);
            ADD_FAILURE() << "accepted";
        } catch (const sdk::InvalidInput &e) {
            std::string message = e.what();
            EXPECT_NE(message.find("fewer than 16"), std::string::npos) << message;
            EXPECT_NE(message.find("start"), std::string::npos) << message;
        }
    }
}

TEST(ResourcePids, MinusOneSuggestsUnlimited) {
    try {
        parse_pids("-1");
        FAIL() << "accepted";
    } catch (const sdk::InvalidInput &e) {
        std::string message = e.what();
        EXPECT_EQ(message.rfind("--pids-limit \"-1\": ", 0), 0u) << message;
        EXPECT_NE(message.find("\"unlimited\""), std::string::npos) << message;
    }
}

// --- scratch tmpfs sizes ----------------------------------------------------------------------

std::string refusal(const std::function<void()> &call) {
    try {
        call();
    } catch (const sdk::InvalidInput &e) {
        return e.what();
    }
    return "accepted";
}

TEST(ResourceScratch, SizesUseTheMemorySyntax) {
    EXPECT_EQ(parse_scratch_size("1g", "--tmp-size"), GiB);
    EXPECT_EQ(parse_scratch_size("512M", "--tmp-size"), 512 * MiB);
    EXPECT_EQ(parse_scratch_size("1m", "--home-size"), MiB);
}

TEST(ResourceScratch, BadSizesAreRefusedNamingTheFlagAndTheValue) {
    for (const std::string &text : common_rejects) {
        SCOPED_TRACE(text);
        const std::string message = refusal([&] { parse_scratch_size(text, "--tmp-size"); });
        EXPECT_EQ(message.rfind("--tmp-size ", 0), 0u) << message;
    }
    // A tmpfs without a size may take half of the host's memory: "unlimited" is not a size here.
    const std::string unlimited = refusal([] { parse_scratch_size("unlimited", "--home-size"); });
    EXPECT_EQ(unlimited.rfind("--home-size \"unlimited\": ", 0), 0u) << unlimited;
    EXPECT_NE(unlimited.find("needs a size"), std::string::npos) << unlimited;
    const std::string tiny = refusal([] { parse_scratch_size("512k", "--tmp-size"); });
    EXPECT_NE(tiny.find("below the minimum of 1m"), std::string::npos) << tiny;
}

TEST(ResourceScratch, DefaultsAreAQuarterOfTheMemoryEachAndFitBelowIt) {
    const Scratch s = resolve_scratch(4 * GiB, std::nullopt, std::nullopt);
    EXPECT_EQ(s.tmp_bytes, GiB);
    EXPECT_EQ(s.home_bytes, GiB);
    EXPECT_EQ(s.shm_bytes, 64 * MiB);
    // The smallest memory limit still gets a fitting default.
    const Scratch small = resolve_scratch(6 * MiB, std::nullopt, std::nullopt);
    EXPECT_LT(small.tmp_bytes + small.home_bytes + small.shm_bytes, 6 * MiB);
    EXPECT_GT(small.shm_bytes, 0);
    // Without a memory limit the tmpfs mounts are still sized.
    const Scratch unlimited = resolve_scratch(std::nullopt, std::nullopt, std::nullopt);
    EXPECT_EQ(unlimited.tmp_bytes, GiB);
    EXPECT_EQ(unlimited.home_bytes, GiB);
}

TEST(ResourceScratch, GivenSizesReplaceTheDefaults) {
    const Scratch s = resolve_scratch(4 * GiB, std::string("2g"), std::string("512m"));
    EXPECT_EQ(s.tmp_bytes, 2 * GiB);
    EXPECT_EQ(s.home_bytes, 512 * MiB);
}

TEST(ResourceScratch, SizesThatDoNotFitBelowTheMemoryLimitAreRefusedNamingEveryValue) {
    const std::string message = refusal([] { resolve_scratch(GiB, std::string("768m"), std::nullopt); });
    EXPECT_NE(message.find("--tmp-size \"768m\" = 805306368 bytes (768m)"), std::string::npos) << message;
    EXPECT_NE(message.find("--home-size (default) = 268435456 bytes (256m)"), std::string::npos) << message;
    EXPECT_NE(message.find("/dev/shm 67108864 bytes (64m)"), std::string::npos) << message;
    EXPECT_NE(message.find("not below --memory 1073741824 bytes (1g)"), std::string::npos) << message;
    EXPECT_NE(message.find("lower --tmp-size or --home-size, or raise --memory"), std::string::npos) << message;
    // Twin: just below the limit is accepted.
    EXPECT_NO_THROW(resolve_scratch(GiB, std::string("700m"), std::string("256m")));
    // Equal to the limit is not below it.
    EXPECT_NE(refusal([] { resolve_scratch(GiB, std::string("704m"), std::string("256m")); }), "accepted");
}

}  // namespace
}  // namespace rustyolo::resources
