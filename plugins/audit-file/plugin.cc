// audit-file: the built-in audit sink that writes one JSON-lines file per session (file_sink.hpp).
// The hub calls open({"session", "agent", "level", "started", "directory", ...}), then event(record)
// for each record, then close({"exit_code", "counts"}); records are written exactly as received.
#include "file_sink.hpp"

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
        std::string path;
        try {
            path = sink_.open(directory, started, id);
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
        return json::object{{"location", path}};
    }

    void event(const json::object &record) override { sink_.write_line(json::serialize(record)); }

    void close(const json::object & /*summary*/) override { sink_.close(); }

private:
    FileSink sink_;
};

}  // namespace
}  // namespace rustyolo::audit_file

RUSTYOLO_PLUGIN(rustyolo::audit_file::AuditFile, "audit-file", "1.0.0",
                "Audit sink: one JSON-lines file per session under ~/.local/state/rustyolo/audit")
