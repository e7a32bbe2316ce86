#include "core/cli/live_save.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

namespace rustyolo::cli {
namespace {

TEST(LiveSave, AnEmptyFileGetsADefaultTable) {
    auto text = with_allow_domains("", {"a.test", "b.test:8443"}, "config.toml");
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "[default]\nallow_domains = [\"a.test\", \"b.test:8443\"]\n");
}

TEST(LiveSave, CommentsOrderAndOtherKeysStay) {
    const std::string before =
        "# my settings\n[resources]\nmemory = \"4g\"  # enough\n\n[default]\n# domains I need\n"
        "allow_domains = \"github.com npmjs.org\"\nimage = \"rustyolo:latest\"\n";
    auto text = with_allow_domains(before, {"a.test", "github.com"}, "config.toml");
    ASSERT_TRUE(text);
    EXPECT_EQ(*text,
              "# my settings\n[resources]\nmemory = \"4g\"  # enough\n\n[default]\n# domains I need\n"
              "allow_domains = [\"github.com\", \"npmjs.org\", \"a.test\"]\nimage = \"rustyolo:latest\"\n");
}

TEST(LiveSave, AMultiLineArrayIsReplacedWhole) {
    const std::string before = "[default]\nallow_domains = [\n  \"a.test\", # first\n  \"b.test\",\n]\nagent = \"claude\"\n";
    auto text = with_allow_domains(before, {"c.test"}, "config.toml");
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "[default]\nallow_domains = [\"a.test\", \"b.test\", \"c.test\"]\nagent = \"claude\"\n");
}

TEST(LiveSave, ADefaultTableWithoutTheKeyGetsIt) {
    auto text = with_allow_domains("[default]\nagent = \"claude\"\n", {"a.test"}, "c.toml");
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "[default]\nallow_domains = [\"a.test\"]\nagent = \"claude\"\n");
}

TEST(LiveSave, NothingNewMeansNoChange) {
    EXPECT_FALSE(with_allow_domains("[default]\nallow_domains = [\"a.test\"]\n", {"a.test"}, "c.toml"));
}

TEST(LiveSave, AFormThisEditCannotHandleIsRefusedNotMangled) {
    EXPECT_THROW(with_allow_domains("default.allow_domains = [\"a.test\"]\n", {"b.test"}, "c.toml"), UsageError);
    EXPECT_THROW(with_allow_domains("[default\n", {"b.test"}, "c.toml"), UsageError);
}

}  // namespace
}  // namespace rustyolo::cli
