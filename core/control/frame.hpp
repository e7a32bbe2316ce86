// The control protocol's framing (docs/control-protocol.md): the messages that change a running
// session, between a `rustyolo allow`/`deny` and the session's CLI (its control socket) and
// between that CLI and the container's supervisor (the session connection, which carries the
// audit records the other way). Shared by the CLI and the entrypoint; the credential proxy's
// messages use the same frames.
//
// A frame is one line: a JSON object of at most kMaxFrame bytes, then '\n'. Its first key is
// "rustyolo_control" with the protocol version (kControlVersion); a line that does not start with
// exactly `{"rustyolo_control":` is no frame (on the session connection: an audit record).
//   request:  {"rustyolo_control": 1, "id": N, "type": "request", "op": "...", "body": {...}}
//   response: {"rustyolo_control": 1, "id": N, "type": "response", "ok": true, "result": {...}}
//             {"rustyolo_control": 1, "id": N, "type": "response", "ok": false,
//              "error": "...", "invalid": bool}
// `id` (1 .. 2^53) pairs a response with its request; `invalid` says the request was refused as
// bad input (exit status 2 for the CLI) rather than failing.
#pragma once

#include "core/private_header.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rustyolo::control {

inline constexpr std::int64_t kControlVersion = 1;
inline constexpr std::size_t kMaxFrame = 64 * 1024;
inline constexpr std::string_view kFramePrefix = "{\"rustyolo_control\":";

class FrameError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Request {
    std::uint64_t id = 0;
    std::string op;
    boost::json::object body;
};

struct Response {
    std::uint64_t id = 0;
    bool ok = false;
    boost::json::object result;  // ok
    std::string error;           // !ok
    bool invalid = false;        // !ok: refused as bad input
};

// Whether `line` (without its '\n') is a control frame rather than an audit record.
bool is_frame(std::string_view line);

// One line each, ending in '\n'. Throws FrameError when the frame would exceed kMaxFrame.
std::string format(const Request &request);
std::string format(const Response &response);

// Parse one line (without its '\n'). Throw FrameError naming what is wrong: not a frame, another
// version (named, with this side's), a missing or mistyped field, the wrong type.
Request parse_request(std::string_view line);
Response parse_response(std::string_view line);

// A response refusing `request` (ok false) with `error`.
Response refusal(std::uint64_t id, std::string error, bool invalid);

}  // namespace rustyolo::control
