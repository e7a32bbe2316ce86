#include "core/control/frame.hpp"

namespace rustyolo::control {

namespace json = boost::json;

namespace {

constexpr std::uint64_t kMaxId = 1ull << 53;

json::object parse_frame(std::string_view line, std::string_view type) {
    if (line.size() > kMaxFrame)
        throw FrameError("control frame longer than " + std::to_string(kMaxFrame) + " bytes");
    if (!is_frame(line))
        throw FrameError("not a control frame (it must start with " + std::string(kFramePrefix) + ")");
    json::error_code ec;
    json::value value = json::parse(line, ec);
    if (ec || !value.is_object())
        throw FrameError("control frame is not a JSON object: " + ec.message());
    json::object &frame = value.as_object();
    const json::value &version = frame.at("rustyolo_control");
    if (!version.is_int64() || version.as_int64() != kControlVersion)
        throw FrameError("control protocol version " + json::serialize(version) + " is not supported (this side speaks " +
                         std::to_string(kControlVersion) + "); use the same rustyolo on both ends");
    const json::value *id = frame.if_contains("id");
    if (!id || !id->is_int64() || id->as_int64() < 1 || static_cast<std::uint64_t>(id->as_int64()) > kMaxId)
        throw FrameError("control frame: \"id\" must be an integer from 1 to 2^53");
    const json::value *kind = frame.if_contains("type");
    if (!kind || !kind->is_string() || kind->as_string() != type)
        throw FrameError("control frame: \"type\" must be \"" + std::string(type) + "\"");
    return std::move(frame);
}

std::string finish(const json::object &frame) {
    std::string line = json::serialize(frame);
    if (line.size() > kMaxFrame)
        throw FrameError("control frame of " + std::to_string(line.size()) + " bytes is longer than " +
                         std::to_string(kMaxFrame));
    return line + "\n";
}

}  // namespace

bool is_frame(std::string_view line) { return line.substr(0, kFramePrefix.size()) == kFramePrefix; }

std::string format(const Request &request) {
    return finish(json::object{{"rustyolo_control", kControlVersion},
                               {"id", request.id},
                               {"type", "request"},
                               {"op", request.op},
                               {"body", request.body}});
}

std::string format(const Response &response) {
    json::object frame{{"rustyolo_control", kControlVersion}, {"id", response.id}, {"type", "response"},
                       {"ok", response.ok}};
    if (response.ok) {
        frame["result"] = response.result;
    } else {
        frame["error"] = response.error;
        frame["invalid"] = response.invalid;
    }
    return finish(frame);
}

Request parse_request(std::string_view line) {
    json::object frame = parse_frame(line, "request");
    Request request;
    request.id = static_cast<std::uint64_t>(frame.at("id").as_int64());
    const json::value *op = frame.if_contains("op");
    if (!op || !op->is_string() || op->as_string().empty())
        throw FrameError("control request: \"op\" must be a non-empty string");
    request.op = std::string(op->as_string());
    const json::value *body = frame.if_contains("body");
    if (!body || !body->is_object())
        throw FrameError("control request: \"body\" must be an object");
    request.body = body->as_object();
    return request;
}

Response parse_response(std::string_view line) {
    json::object frame = parse_frame(line, "response");
    Response response;
    response.id = static_cast<std::uint64_t>(frame.at("id").as_int64());
    const json::value *ok = frame.if_contains("ok");
    if (!ok || !ok->is_bool())
        throw FrameError("control response: \"ok\" must be true or false");
    response.ok = ok->as_bool();
    if (response.ok) {
        const json::value *result = frame.if_contains("result");
        if (!result || !result->is_object())
            throw FrameError("control response: \"result\" must be an object");
        response.result = result->as_object();
    } else {
        const json::value *error = frame.if_contains("error");
        const json::value *invalid = frame.if_contains("invalid");
        if (!error || !error->is_string())
            throw FrameError("control response: \"error\" must be a string");
        if (!invalid || !invalid->is_bool())
            throw FrameError("control response: \"invalid\" must be true or false");
        response.error = std::string(error->as_string());
        response.invalid = invalid->as_bool();
    }
    return response;
}

Response refusal(std::uint64_t id, std::string error, bool invalid) {
    Response response;
    response.id = id;
    response.ok = false;
    response.error = std::move(error);
    response.invalid = invalid;
    return response;
}

}  // namespace rustyolo::control
