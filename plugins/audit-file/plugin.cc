// audit-file: the built-in audit sink that writes one JSON-lines file per session (file_sink.hpp).
// The hub calls open({"session", "agent", "level", "started", "directory", "max_bytes", ...}), then
// event(record) for each record, then close({"exit_code", "counts"}); records are written exactly as
// received until the file reaches max_bytes (record_cap.hpp says what happens then).
#include "plugins/audit-file/file_sink.hpp"
#include "plugins/audit-file/record_cap.hpp"

#include <rustyolo/sdk/plugin.hpp>

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
        const std::string directory = required_string(session, "directory");
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

private:
    static constexpr std::uint64_t kMinMaxBytes = 64 * 1024;  // as the host's parse_audit_max_bytes
    FileSink sink_;
    RecordCap cap_;
};

}  // namespace
}  // namespace rustyolo::audit_file

RUSTYOLO_PLUGIN(rustyolo::audit_file::AuditFile, "audit-file", "1.0.0",
                "Audit sink: one JSON-lines file per session under ~/.local/state/rustyolo/audit")
