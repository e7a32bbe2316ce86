// audit-syslog: the built-in audit sink that sends each record to syslog as an RFC 5424 message
// (syslog_format.hpp) over the Unix datagram socket the hub names in open() ("syslog_socket").
#include "plugins/audit-syslog/syslog_sink.hpp"

#include <rustyolo/sdk/plugin.hpp>

namespace rustyolo::audit_syslog {
namespace {

namespace json = boost::json;

class AuditSyslog final : public sdk::Plugin, public sdk::AuditHook {
public:
    explicit AuditSyslog(sdk::Host &host)
        : sdk::Plugin(host), sink_([this](const std::string &message) { this->host().log(sdk::LogLevel::warn, message); }) {}

    json::value open(const json::object &session) override {
        std::string socket = sdk::string_or(session, "syslog_socket", "/dev/log");
        if (socket.empty())
            socket = "/dev/log";
        sink_.open(socket);
        return json::object{{"location", "syslog (" + socket + ")"}};
    }

    void event(const json::object &record) override { sink_.send(record); }

    void close(const json::object & /*summary*/) override { sink_.close(); }

private:
    SyslogSink sink_;
};

}  // namespace
}  // namespace rustyolo::audit_syslog

RUSTYOLO_PLUGIN(rustyolo::audit_syslog::AuditSyslog, "audit-syslog", "1.0.0",
                "Audit sink: RFC 5424 messages to the local syslog socket (facility auth)")
