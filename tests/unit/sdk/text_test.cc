// Showing untrusted text: nothing in a value can drive the user's terminal.
#include <rustyolo/sdk/text.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace rustyolo::text {
namespace {

TEST(Text, QuotedEscapesC0AndDelete) {
    EXPECT_EQ(text::quoted(std::string("a\x1b[2Jb\x7f", 7)), "\"a\\x1b[2Jb\\x7f\"");
}

// U+009B is CSI for terminals that honour C1 controls; U+0085 is NEL.
TEST(Text, QuotedEscapesTheC1ControlsAsTheirUtf8Bytes) {
    EXPECT_EQ(text::quoted("x\xc2\x9b" "31mred\xc2\x85"), "\"x\\xc2\\x9b31mred\\xc2\\x85\"");
    EXPECT_EQ(text::printable("\xc2\x9b"), "\\xc2\\x9b");
}

TEST(Text, QuotedKeepsPrintableNonAsciiText) {
    // é (c3 a9), € (e2 82 ac: a continuation byte in the C1 range), U+00A0 (c2 a0, not a control)
    EXPECT_EQ(text::quoted("\xc3\xa9\xe2\x82\xac\xc2\xa0"), "\"\xc3\xa9\xe2\x82\xac\xc2\xa0\"");
}

TEST(Text, JsonWithoutC1KeepsTheValueAndHasNoRawC1) {
    const boost::json::value value{{"name", "a\xc2\x9b" "b\xc2\x80\xe2\x82\xac"}};
    const std::string shown = json_without_c1(boost::json::serialize(value));
    EXPECT_EQ(shown.find("\xc2\x9b"), std::string::npos);
    EXPECT_EQ(shown.find("\xc2\x80"), std::string::npos);
    EXPECT_NE(shown.find("\\u009b"), std::string::npos);
    EXPECT_EQ(boost::json::parse(shown), value);
}

}  // namespace
}  // namespace rustyolo::text
