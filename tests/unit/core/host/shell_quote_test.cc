#include "core/host/shell_quote.hpp"

#include <gtest/gtest.h>

namespace rustyolo {
namespace {

TEST(ShellQuote, PlainWordsStayAsTheyAre) {
    EXPECT_EQ(shell_quote("--mount"), "--mount");
    EXPECT_EQ(shell_quote("type=bind,source=/a,target=/b"), "type=bind,source=/a,target=/b");
}

TEST(ShellQuote, SpecialCharactersAreSingleQuoted) {
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellQuote, SingleQuotesAreEscaped) { EXPECT_EQ(shell_quote("it's"), "'it'\\''s'"); }

TEST(ShellQuote, JoinQuotesEachWord) {
    EXPECT_EQ(shell_join({"docker", "run", "a b", "x"}), "docker run 'a b' x");
}

}  // namespace
}  // namespace rustyolo
