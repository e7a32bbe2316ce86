// JsonReader keeps a pointer to the object it reads, so it must never be built over a temporary
// (a json::object argument once converted to a json::value that died before the first read).
#include <rustyolo/sdk/json_reader.hpp>

#include <gtest/gtest.h>

#include <type_traits>

namespace rustyolo::sdk {
namespace {

namespace json = boost::json;

static_assert(!std::is_constructible_v<JsonReader, json::value, std::string>,
              "a reader over a temporary value would dangle");
static_assert(!std::is_constructible_v<JsonReader, json::object, std::string>,
              "a reader over a temporary object would dangle");
static_assert(std::is_constructible_v<JsonReader, const json::object &, std::string>);
static_assert(std::is_constructible_v<JsonReader, const json::value &, std::string>);

TEST(JsonReader, ReadsAnObjectItIsGivenDirectly) {
    const json::object request{{"user_args", true}, {"args", json::array{"--version"}}, {"name", "x"}};
    const JsonReader r(request, "request");
    EXPECT_TRUE(r.boolean_or("user_args", false));
    EXPECT_EQ(r.strings("args"), std::vector<std::string>{"--version"});
    EXPECT_EQ(r.str("name"), "x");
    EXPECT_EQ(&r.object(), &request);
}

TEST(JsonReader, AWrongTypeNamesTheDocumentAndPath) {
    const json::object request{{"user_args", "yes"}};
    const JsonReader r(request, "agent profile request");
    try {
        r.boolean_or("user_args", false);
        FAIL() << "a string was read as a boolean";
    } catch (const JsonError &e) {
        EXPECT_STREQ(e.what(), "agent profile request: /user_args: expected true or false");
    }
}

}  // namespace
}  // namespace rustyolo::sdk
