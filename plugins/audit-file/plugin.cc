// audit-file: the built-in audit sink that writes one JSON-lines file per session (file_sink.hpp).
// The hub calls open({"session", "agent", "level", "started", "directory", "max_bytes", ...}), then
// event(record) for each record, then close({"exit_code", "counts"}); records are written exactly as
// received until the file reaches max_bytes (record_cap.hpp says what happens then). "directory" is
// the configured one ("" for the default, log_paths.hpp). read() lists the sessions of the
// directory and reads one back (session_store.hpp), for `rustyolo audit`.
#include "plugins/audit-file/file_sink.hpp"
#include "plugins/audit-file/log_paths.hpp"
#include "plugins/audit-file/record_cap.hpp"
#include "plugins/audit-file/session_store.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <cstdlib>
#include <stdexcept>

namespace rustyolo::audit_file {
namespace {

namespace json = boost::json;

std::string required_string(const json::object &request, std::string_view key) {
    const json::value &value = sdk::require(request, key);
    if (!value.is_string() || value.as_string().empty())
        throw sdk::InvalidInput("audit session field '" + std::string(key) + "' must be a non-empty string");
    return std::string(value.as_string());
}

class AuditFile final : public sdk::Plugin, public sdk::AuditHook {
public:
    using sdk::Plugin::Plugin;

    json::value open(const json::object &session) override {
        const std::string directory = resolve_directory(session);
        const std::string started = required_string(session, "started");
        const std::string id = required_string(session, "session");
        // The cap: 0 or absent (an older host) means none.
        std::uint64_t max_bytes = 0;
        if (const json::value *max = session.if_contains("max_bytes")) {
            if (!max->is_number() || (max->is_int64() && max->as_int64() < 0))
                throw sdk::InvalidInput("audit session field 'max_bytes' must be a non-negative integer");
            max_bytes = max->to_number<std::uint64_t>();
            if (max_bytes != 0 && max_bytes < kMinMaxBytes)
                throw sdk::InvalidInput("audit session field 'max_bytes' must be 0 or at least " +
                                        std::to_string(kMinMaxBytes));
        }
        cap_ = RecordCap(max_bytes);
        std::string path;
        try {
            path = sink_.open(directory, started, id);
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
        return json::object{{"location", path}};
    }

    void event(const json::object &record) override {
        for (const std::string &line : cap_.admit(record))
            sink_.write_line(line);
    }

    void close(const json::object &summary) override {
        if (sink_.is_open())
            for (const std::string &line : cap_.finish(summary))
                sink_.write_line(line);
        sink_.close();
    }

    json::value read(const json::object &request) override {
        const std::string directory = resolve_directory(request);
        const std::string action = sdk::string_or(request, "action", "");
        try {
            if (action == "list")
                return list_answer(directory);
            if (action == "read") {
                const std::string session = sdk::string_or(request, "session", "");
                if (session.empty())
                    throw sdk::InvalidInput("audit read request: session must be a non-empty string");
                std::uint64_t offset = 0;
                if (const json::value *value = request.if_contains("offset")) {
                    if (!value->is_int64() || value->as_int64() < 0)
                        throw sdk::InvalidInput("audit read request: offset must be a non-negative integer");
                    offset = static_cast<std::uint64_t>(value->as_int64());
                }
                return read_answer(directory, session, offset);
            }
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
        throw sdk::InvalidInput("audit read request: action must be \"list\" or \"read\", not \"" + action + "\"");
    }

private:
    // The directory of an open or read request: the configured one ("" or absent: the default).
    static std::string resolve_directory(const json::object &request) {
        const json::value *value = request.if_contains("directory");
        if (value && !value->is_string())
            throw sdk::InvalidInput("audit request field 'directory' must be a string");
        try {
            return audit_directory([](const char *name) { return std::getenv(name); },
                                   value ? std::string(value->as_string()) : std::string());
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
    }

    static constexpr std::uint64_t kMinMaxBytes = 64 * 1024;  // as the host's parse_audit_max_bytes
    FileSink sink_;
    RecordCap cap_;
};

}  // namespace
}  // namespace rustyolo::audit_file

RUSTYOLO_PLUGIN(rustyolo::audit_file::AuditFile, "audit-file", "1.0.0",
                "Audit sink: one JSON-lines file per session under ~/.local/state/rustyolo/audit")
