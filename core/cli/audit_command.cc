// `rustyolo audit`: the sessions recorded by the audit file sink, one session's records, or the live
// session's records as they come.
//
//   rustyolo audit [list]                          past sessions, oldest first
//   rustyolo audit show SESSION|PREFIX|latest      one session, human-readable (--json: the records)
//   rustyolo audit --follow | show ... --follow    the live session's records as they are written
#include "core/audit/log_reader.hpp"
#include "core/audit/log_paths.hpp"
#include "core/cli/commands.hpp"
#include "core/error.hpp"
#include <rustyolo/sdk/text.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

namespace rustyolo::cli {

namespace {

namespace json = boost::json;
using namespace audit_reader;

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

int list_sessions(const std::string &directory) {
    const auto files = list_session_files(directory);
    if (files.empty()) {
        std::cout << "No audit records in " << directory << " yet.\n";
        return 0;
    }
    std::printf("%-26s %-14s %-10s %5s %8s\n", "STARTED", "SESSION", "AGENT", "EXIT", "BLOCKED");
    int unreadable = 0;
    for (const auto &file : files) {
        try {
            const auto session = read_session(file);
            std::printf("%s%s\n", info_line(session.info).c_str(),
                        session.info.truncated && !session.info.live ? "  (last line cut off)" : "");
        } catch (const Error &e) {
            std::fflush(stdout);
            std::cerr << "rustyolo: warning: " << e.what() << "\n";
            ++unreadable;
        }
    }
    std::fflush(stdout);
    std::cout << "Records: " << directory << " (rustyolo audit show SESSION)\n";
    return unreadable > 0 ? 1 : 0;
}

// The file of `wanted`: "latest", a session id, or an unambiguous prefix of one.
SessionFile find_session(const std::string &directory, const std::string &wanted) {
    const auto files = list_session_files(directory);
    if (files.empty())
        throw Error("no audit records in " + directory + " yet");
    if (wanted == "latest")
        return files.back();
    std::vector<SessionFile> matches;
    for (const auto &file : files) {
        const std::string stem = file.name.substr(0, file.name.size() - 6);
        const std::string id = stem.substr(stem.rfind('-') + 1);
        if (id == wanted)
            return file;
        if (id.rfind(wanted, 0) == 0)
            matches.push_back(file);
    }
    if (matches.size() == 1)
        return matches.front();
    if (matches.empty())
        throw UsageError("no recorded session " + text::quoted(wanted, 80) + " in " + directory +
                         "; `rustyolo audit` lists them");
    std::string names;
    for (const auto &m : matches)
        names += "\n  " + m.name;
    throw UsageError("session prefix " + text::quoted(wanted, 80) + " matches " + std::to_string(matches.size()) +
                     " sessions; give more of the id:" + names);
}

void print_records(const std::vector<json::object> &records, bool as_json) {
    for (const auto &record : records)
        std::cout << (as_json ? json::serialize(record) : format_record(record)) << "\n";
    std::cout.flush();
}

bool is_exit_record(const json::object &record) {
    const auto *layer = record.if_contains("layer");
    const auto *event = record.if_contains("event");
    return layer && event && layer->is_string() && event->is_string() && layer->as_string() == "lifecycle" &&
           event->as_string() == "exit";
}

// Prints the file's records and then each new one, until the exit record or until no session holds
// the file any more.
int follow_file(const SessionFile &file, bool as_json) {
    UniqueFd fd(open_session_file(file.path));
    LineParser parser(file.path);
    if (!as_json)
        std::cerr << "rustyolo: following " << file.path << " (Ctrl-C to stop)\n";
    bool final_pass = false;
    for (;;) {
        std::vector<json::object> records;
        if (read_records(fd.get(), file.path, parser, records)) {
            print_records(records, as_json);
            for (const auto &record : records)
                if (is_exit_record(record))
                    return 0;
            continue;
        }
        if (final_pass)
            break;
        if (!is_live(file.path)) {
            final_pass = true;  // read once more: the last lines may have come just before the unlock
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!as_json)
        std::cerr << "rustyolo: the session ended without an exit record\n";
    return 0;
}

int show_session(const std::string &directory, const AuditArgs &args) {
    const SessionFile file = find_session(directory, args.session);
    if (args.follow)
        return follow_file(file, args.json);
    const auto session = read_session(file);
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
    std::cout << "Records: " << file.path << "\n";
    return 0;
}

int follow_live(const std::string &directory, bool as_json) {
    const auto files = list_session_files(directory);
    for (auto it = files.rbegin(); it != files.rend(); ++it)
        if (is_live(it->path))
            return follow_file(*it, as_json);
    throw Error("no live session: no audit file in " + directory +
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
    const std::string directory = audit_directory(context.getenv_fn, context.config.audit_dir);
    if (parsed.action == "show")
        return show_session(directory, parsed);
    if (parsed.action == "follow")
        return follow_live(directory, parsed.json);
    if (parsed.json)
        throw UsageError(std::string("rustyolo audit --json prints one session's records: use "
                                     "`rustyolo audit show SESSION --json`\n") + kUsage);
    return list_sessions(directory);
}

}  // namespace rustyolo::cli
