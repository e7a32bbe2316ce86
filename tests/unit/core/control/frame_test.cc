#include "core/control/frame.hpp"

#include <gtest/gtest.h>

namespace rustyolo::control {
namespace {

namespace json = boost::json;

std::string without_newline(std::string line) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    line.pop_back();
    return line;
}

TEST(ControlFrame, ARequestRoundTripsAndStartsWithThePrefix) {
    Request request{7, "allow", json::object{{"entries", json::array{"example.com"}}}};
    std::string line = without_newline(format(request));
    EXPECT_TRUE(is_frame(line));
    EXPECT_EQ(line.find('\n'), std::string::npos);
    Request back = parse_request(line);
    EXPECT_EQ(back.id, 7u);
    EXPECT_EQ(back.op, "allow");
    EXPECT_EQ(back.body, request.body);
}

TEST(ControlFrame, ResponsesRoundTripBothWays) {
    Response ok;
    ok.id = 3;
    ok.ok = true;
    ok.result = json::object{{"applied", json::array{}}};
    Response back = parse_response(without_newline(format(ok)));
    EXPECT_TRUE(back.ok);
    EXPECT_EQ(back.result, ok.result);

    Response no = parse_response(without_newline(format(refusal(4, "\"x\" is not an allow entry", true))));
    EXPECT_FALSE(no.ok);
    EXPECT_EQ(no.id, 4u);
    EXPECT_TRUE(no.invalid);
    EXPECT_EQ(no.error, "\"x\" is not an allow entry");
}

TEST(ControlFrame, AnAuditRecordIsNoFrame) {
    EXPECT_FALSE(is_frame(R"({"time":"2026-01-01T00:00:00Z","layer":"dns","verdict":"block"})"));
    EXPECT_FALSE(is_frame(R"( {"rustyolo_control":1})"));
    EXPECT_THROW(parse_request(R"({"time":"x"})"), FrameError);
}

TEST(ControlFrame, AnotherVersionIsRefusedNamingBothVersions) {
    try {
        parse_request(R"({"rustyolo_control":2,"id":1,"type":"request","op":"allow","body":{}})");
        FAIL() << "a version 2 frame must be refused";
    } catch (const FrameError &e) {
        EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("speaks 1"), std::string::npos) << e.what();
    }
}

TEST(ControlFrame, MalformedFramesAreRefusedWithTheField) {
    auto message = [](std::string_view line) {
        try {
            parse_request(line);
        } catch (const FrameError &e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message(R"({"rustyolo_control":1,"id":0,"type":"request","op":"a","body":{}})").find("\"id\""),
              std::string::npos);
    EXPECT_NE(message(R"({"rustyolo_control":1,"id":1,"type":"response","op":"a","body":{}})").find("\"type\""),
              std::string::npos);
    EXPECT_NE(message(R"({"rustyolo_control":1,"id":1,"type":"request","op":"","body":{}})").find("\"op\""),
              std::string::npos);
    EXPECT_NE(message(R"({"rustyolo_control":1,"id":1,"type":"request","op":"a","body":[]})").find("\"body\""),
              std::string::npos);
    EXPECT_NE(message(R"({"rustyolo_control":1,"id":1,)").find("not a JSON object"), std::string::npos);
    EXPECT_THROW(parse_response(R"({"rustyolo_control":1,"id":1,"type":"response","ok":false,"error":"x"})"),
                 FrameError);  // "invalid" is required with ok false
}

TEST(ControlFrame, AFrameOverTheLimitIsRefused) {
    Request request{1, "allow", json::object{{"entries", json::array{std::string(kMaxFrame, 'a')}}}};
    EXPECT_THROW(format(request), FrameError);
    EXPECT_THROW(parse_request(std::string(kFramePrefix) + std::string(kMaxFrame, ' ') + "1}"), FrameError);
}

}  // namespace
}  // namespace rustyolo::control
