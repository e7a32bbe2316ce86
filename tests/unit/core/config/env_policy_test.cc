#include "core/config/env_policy.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

namespace rustyolo {
namespace {

TEST(EnvPolicy, NameWithValueKeepsTheValueVerbatim) {
    PlanEnv env = parse_env_entry("FOO=a=b c", "-e");
    EXPECT_EQ(env.name, "FOO");
    EXPECT_EQ(env.value, std::optional<std::string>("a=b c"));
}

TEST(EnvPolicy, BareNameIsPassedFromTheHost) {
    EXPECT_EQ(parse_env_entry("ANTHROPIC_API_KEY", "-e").value, std::nullopt);
}

TEST(EnvPolicy, InvalidNamesAreRefusedNamingTheEntry) {
    for (const char *bad : {"", "=x", "1ABC=x", "A-B=x", "A B=x", "A;B=x"}) {
        SCOPED_TRACE(bad);
        try {
            parse_env_entry(bad, "-e");
            ADD_FAILURE();
        } catch (const UsageError &e) {
            EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos) << e.what();
        }
    }
}

TEST(EnvPolicy, CodeLoadingVariablesAreRefused) {
    for (const char *bad : {"LD_PRELOAD=/x.so", "LD_LIBRARY_PATH=/x", "LD_AUDIT=/x", "BASH_ENV=/x", "ENV=/x",
                            "NODE_OPTIONS=--require /x", "PYTHONSTARTUP=/x", "GLIBC_TUNABLES=x"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(parse_env_entry(bad, "-e"), UsageError);
    }
}

TEST(EnvPolicy, ControlVariablesCannotBeOverridden) {
    try {
        parse_env_entry("RUSTYOLO_PLAN=/tmp/evil.json", "-e");
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_NE(std::string(e.what()).find("RUSTYOLO_PLAN"), std::string::npos);
    }
}

TEST(EnvPolicy, OrdinaryVariablesPass) {
    for (const char *ok : {"FOO=1", "_X=", "PATHEXT=a", "LDX=1", "MY_LD_PRELOAD=1"})
        EXPECT_NO_THROW(parse_env_entry(ok, "-e")) << ok;
}

}  // namespace
}  // namespace rustyolo
