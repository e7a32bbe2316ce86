// `rustyolo audit`: the sessions an audit sink recorded, one session's records, or the live
// session's records as they come. The sink reads its own records back (rustyolo_audit_hooks.read);
// this file only shows them (core/audit/session_view.hpp).
//
//   rustyolo audit [list]                          past sessions, oldest first
//   rustyolo audit show SESSION|PREFIX|latest      one session, human-readable (--json: the records)
//   rustyolo audit --follow | show ... --follow    the live session's records as they are written
#include "core/audit/hub.hpp"
#include "core/audit/session_view.hpp"
#include "core/cli/commands.hpp"
#include "core/error.hpp"
#include <rustyolo/sdk/text.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>
#include <algorithm>

namespace rustyolo::cli {

namespace {

namespace json = boost::json;
using namespace audit_view;

constexpr const char *kUsage =
    "usage: rustyolo audit [list] [--json]\n"
    "       rustyolo audit show SESSION|PREFIX|latest [--json] [--follow]\n"
    "       rustyolo audit --follow [--json]\n";

struct AuditArgs {
    std::string action = "list";  // list | show
    std::string session;
    bool json = false;
    bool follow = false;
};

AuditArgs parse_args(const std::vector<std::string> &args) {
    AuditArgs out;
    std::vector<std::string> words;
    for (const auto &arg : args) {
        if (arg == "--json")
            out.json = true;
        else if (arg == "--follow" || arg == "-f")
            out.follow = true;
        else if (arg == "--help" || arg == "-h")
            out.action = "help";
        else if (!arg.empty() && arg[0] == '-')
            throw UsageError("rustyolo audit: unknown option " + text::quoted(arg, 60) + "\n" + kUsage);
        else
            words.push_back(arg);
    }
    if (out.action == "help")
        return out;
    if (!words.empty()) {
        if (words[0] == "list" && words.size() == 1) {
            out.action = "list";
        } else if (words[0] == "show" && words.size() == 2) {
            out.action = "show";
            out.session = words[1];
        } else if (words[0] == "show") {
            throw UsageError(std::string("rustyolo audit show: give one session (an id, a prefix of one, or "
                                         "latest)\n") + kUsage);
        } else {
            throw UsageError("rustyolo audit: unknown command " + text::quoted(words[0], 60) + "\n" + kUsage);
        }
    }
    if (out.follow && out.action == "list")
        out.action = "follow";
    return out;
}

std::string info_line(const SessionInfo &info) {
    std::string exit = info.exit_code ? std::to_string(*info.exit_code) : info.live ? "live" : "-";
    char line[512];
    std::snprintf(line, sizeof line, "%-26s %-14s %-10s %5s %8llu", text::printable(info.started).c_str(),
                  text::printable(info.session).c_str(),
                  info.agent.empty() ? "-" : text::printable(info.agent).c_str(), exit.c_str(),
                  static_cast<unsigned long long>(info.blocked));
    return line;
}

// The audit sink `rustyolo audit` reads: the first configured sink that can read its sessions back.
class SinkReader {
public:
    explicit SinkReader(const Context &context) : directory_(context.config.audit_dir) {
        // The configured sinks first, then any loaded one (the file sink reads back what it wrote
        // while it was configured, whatever the sinks are now).
        std::vector<const LoadedPlugin *> candidates;
        try {
            candidates = find_audit_sinks(*context.registry, context.config.audit_sinks);
        } catch (const std::exception &) {
        }
        for (const auto &p : context.registry->plugins())
            if (p->audit())
                candidates.push_back(p.get());
        for (const LoadedPlugin *sink : candidates)
            if (sink->audit()->read && std::find(sinks_.begin(), sinks_.end(), sink) == sinks_.end())
                sinks_.push_back(sink);
        if (sinks_.empty())
            throw Error(kNoReader);
    }

    json::object list() const { return call(json::object{{"action", "list"}}); }
    json::object read(const std::string &session, std::uint64_t offset = 0) const {
        return call(json::object{{"action", "read"}, {"session", session}, {"offset", offset}});
    }

private:
    // Asks the first sink that reads its sessions back; a sink that answers "unsupported" (an SDK
    // sink without a read) is passed over, for this and later calls.
    json::object call(json::object request) const {
        request["directory"] = directory_;
        while (!sinks_.empty()) {
            const LoadedPlugin *sink = sinks_.front();
            json::value answer;
            try {
                answer = sink->call("audit.read", sink->audit()->read, request);
            } catch (const PluginCallError &e) {
                if (e.status == RUSTYOLO_UNSUPPORTED) {
                    sinks_.erase(sinks_.begin());
                    continue;
                }
                throw Error(e.reason);  // the sink's own words
            }
            if (!answer.is_object())
                throw Error("audit sink " + sink->name() + ": audit.read did not answer with a JSON object");
            return std::move(answer.as_object());
        }
        throw Error(kNoReader);
    }

    static constexpr const char *kNoReader =
        "no loaded audit sink can read its sessions back (rustyolo_audit_hooks.read); `rustyolo audit` "
        "needs one, such as the built-in file sink (rustyolo plugins lists what is loaded)";
    std::string directory_;
    mutable std::vector<const LoadedPlugin *> sinks_;
};

std::string string_at(const json::object &object, const char *key) {
    const json::value *value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

const json::array &sessions_of(const json::object &list) {
    static const json::array none;
    const json::value *sessions = list.if_contains("sessions");
    return sessions && sessions->is_array() ? sessions->as_array() : none;
}

int list_sessions(const SinkReader &sink) {
    const json::object list = sink.list();
    const std::string directory = string_at(list, "location");
    const json::array &sessions = sessions_of(list);
    if (sessions.empty()) {
        std::cout << "No audit records in " << directory << " yet.\n";
        return 0;
    }
    std::printf("%-26s %-14s %-10s %5s %8s\n", "STARTED", "SESSION", "AGENT", "EXIT", "BLOCKED");
    int unreadable = 0;
    for (const auto &entry : sessions) {
        try {
            const std::string id = entry.is_object() ? string_at(entry.as_object(), "session") : "";
            const auto session = session_from_answer(sink.read(id));
            std::printf("%s%s\n", info_line(session.info).c_str(),
                        session.info.truncated && !session.info.live ? "  (last line cut off)" : "");
        } catch (const std::exception &e) {
            std::fflush(stdout);
            std::cerr << "rustyolo: warning: " << e.what() << "\n";
            ++unreadable;
        }
    }
    std::fflush(stdout);
    std::cout << "Records: " << directory << " (rustyolo audit show SESSION)\n";
    return unreadable > 0 ? 1 : 0;
}

void print_records(const std::vector<json::object> &records, bool as_json) {
    for (const auto &record : records)
        std::cout << (as_json ? text::json_without_c1(json::serialize(record)) : format_record(record)) << "\n";
    std::cout.flush();
}

bool is_exit_record(const json::object &record) {
    const auto *layer = record.if_contains("layer");
    const auto *event = record.if_contains("event");
    return layer && event && layer->is_string() && event->is_string() && layer->as_string() == "lifecycle" &&
           event->as_string() == "exit";
}

// Prints the session's records and then each new one, until the exit record or until no session
// writes it any more.
int follow_session(const SinkReader &sink, const std::string &wanted, bool as_json) {
    json::object answer = sink.read(wanted);
    const std::string session = string_at(answer, "session");
    if (!as_json)
        std::cerr << "rustyolo: following " << string_at(answer, "location") << " (Ctrl-C to stop)\n";
    for (;;) {
        const auto records = records_of(answer);
        print_records(records, as_json);
        for (const auto &record : records)
            if (is_exit_record(record))
                return 0;
        // Not live before that read: it returned the last records there will be.
        const json::value *live = answer.if_contains("live");
        if (!live || !live->is_bool() || !live->as_bool())
            break;
        const json::value *offset = answer.if_contains("offset");
        if (!offset || !offset->is_int64() || offset->as_int64() < 0)
            throw Error("the audit sink's read answer has no offset to continue from");
        if (records.empty())
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        answer = sink.read(session, static_cast<std::uint64_t>(offset->as_int64()));
    }
    if (!as_json)
        std::cerr << "rustyolo: the session ended without an exit record\n";
    return 0;
}

int show_session(const SinkReader &sink, const AuditArgs &args) {
    if (args.follow)
        return follow_session(sink, args.session, args.json);
    const auto session = session_from_answer(sink.read(args.session));
    if (args.json) {
        print_records(session.records, true);
        return 0;
    }
    const auto &info = session.info;
    std::cout << "session " << text::printable(info.session) << "  agent "
              << (info.agent.empty() ? "-" : text::printable(info.agent)) << "  started "
              << text::printable(info.started) << "  exit "
              << (info.exit_code ? std::to_string(*info.exit_code) : info.live ? "(live)" : "-") << "  blocked "
              << info.blocked << "\n";
    print_records(session.records, false);
    if (info.malformed_lines > 0)
        std::cout << "(" << info.malformed_lines << " lines of the file are not records and are not shown)\n";
    if (info.truncated && !info.live)
        std::cout << "(the last line is cut off: the session ended before it was written whole)\n";
    std::cout << "Records: " << session.location << "\n";
    return 0;
}

int follow_live(const SinkReader &sink, bool as_json) {
    const json::object list = sink.list();
    const json::array &sessions = sessions_of(list);
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
        const json::value *live = it->is_object() ? it->as_object().if_contains("live") : nullptr;
        if (live && live->is_bool() && live->as_bool())
            return follow_session(sink, string_at(it->as_object(), "session"), as_json);
    }
    throw Error("no live session: no audit file in " + string_at(list, "location") +
                " is held by a running rustyolo session. `rustyolo audit` lists past sessions, "
                "`rustyolo audit show latest` shows the last one");
}

}  // namespace

int audit_command(Context &context, const std::vector<std::string> &args) {
    const AuditArgs parsed = parse_args(args);
    if (parsed.action == "help") {
        std::cout << kUsage
                  << "\nLists and shows the audit records of past sessions (the file sink's files), or\n"
                     "follows the live session. See docs/audit.md.\n";
        return 0;
    }
    if (parsed.action == "list" && parsed.json)
        throw UsageError(std::string("rustyolo audit --json prints one session's records: use "
                                     "`rustyolo audit show SESSION --json`\n") + kUsage);
    const SinkReader sink(context);
    if (parsed.action == "show")
        return show_session(sink, parsed);
    if (parsed.action == "follow")
        return follow_live(sink, parsed.json);
    return list_sessions(sink);
}

}  // namespace rustyolo::cli
