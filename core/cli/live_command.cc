// rustyolo allow ENTRY... [--session ID] [--save user|project]
// rustyolo deny ENTRY... [--session ID]
//
// Changes the network policy of a running session of this user, through its control socket
// (core/host/control_socket.hpp). The session's own rustyolo normalises the entries exactly as it
// did --allow-domains (name, name:port, *.suffix, CIDR) and relays the change to the container.
#include "core/cli/commands.hpp"

#include "core/cli/live_save.hpp"
#include "core/error.hpp"
#include "core/host/control_socket.hpp"

#include <unistd.h>

#include <iostream>
#include <string>

namespace rustyolo::cli {

namespace json = boost::json;

namespace {

struct LiveArgs {
    std::vector<std::string> entries;
    std::string session;
    std::string save;  // "", "user", "project"
    bool help = false;
};

const char *usage(const std::string &verb) {
    return verb == "allow"
               ? "usage: rustyolo allow ENTRY... [--session ID] [--save user|project]\n"
                 "  Allows ENTRY (name, name:port, *.suffix or CIDR, as --allow-domains) in a running session:\n"
                 "  the agent can resolve and reach it at once, without a restart.\n"
                 "  --session ID   the session to change (default: the only running one)\n"
                 "  --save user    also add the entries to your config file\n"
                 "  --save project also add them to the project's .rustyolo.toml (shows the change, asks, and\n"
                 "                 trusts the new content)\n"
               : "usage: rustyolo deny ENTRY... [--session ID]\n"
                 "  Takes back entries added with `rustyolo allow`: the agent can no longer resolve or reach\n"
                 "  them, and its open connections to addresses no remaining entry allows are ended.\n"
                 "  --session ID   the session to change (default: the only running one)\n";
}

LiveArgs parse_live_args(const std::string &verb, const std::vector<std::string> &args) {
    LiveArgs out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        auto value = [&](const std::string &name) -> std::string {
            if (arg.size() > name.size() && arg.compare(0, name.size() + 1, name + "=") == 0)
                return arg.substr(name.size() + 1);
            if (i + 1 >= args.size())
                throw UsageError("rustyolo " + verb + ": " + name + " needs a value");
            return args[++i];
        };
        if (arg == "--help" || arg == "-h") {
            out.help = true;
        } else if (arg == "--session" || arg.rfind("--session=", 0) == 0) {
            out.session = value("--session");
        } else if (verb == "allow" && (arg == "--save" || arg.rfind("--save=", 0) == 0)) {
            out.save = value("--save");
            if (out.save != "user" && out.save != "project")
                throw UsageError("rustyolo allow: --save \"" + out.save + "\" is neither user nor project");
        } else if (arg == "--") {
            out.entries.insert(out.entries.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        } else if (!arg.empty() && arg[0] == '-') {
            throw UsageError("rustyolo " + verb + ": unknown option \"" + arg + "\"\n" + usage(verb));
        } else {
            out.entries.push_back(arg);
        }
    }
    if (!out.help && out.entries.empty())
        throw UsageError("rustyolo " + verb + ": name at least one entry\n" + usage(verb));
    return out;
}

std::string describe(const json::object &session) {
    auto text = [&](const char *key) {
        const json::value *v = session.if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string("?");
    };
    return text("session") + "  " + text("agent") + "  " + text("project") + "  (since " + text("started") + ")";
}

json::object choose_session(Context &context, const std::string &wanted) {
    std::vector<json::object> sessions = running_sessions(context.getenv_fn);
    std::string listing;
    for (const json::object &s : sessions)
        listing += "\n  " + describe(s);
    if (!wanted.empty()) {
        for (const json::object &s : sessions)
            if (const json::value *id = s.if_contains("session"); id && id->is_string() && id->as_string() == wanted)
                return s;
        throw UsageError("no running session of yours has the id \"" + wanted + "\"" +
                         (sessions.empty() ? std::string(" (none is running)") : "; running:" + listing));
    }
    if (sessions.empty())
        throw UsageError("no running rustyolo session of yours was found (control sockets in " +
                         control_dir(context.getenv_fn) + "); start one, e.g. `rustyolo claude`");
    if (sessions.size() == 1)
        return sessions.front();
    if (!::isatty(0) || !::isatty(2))
        throw UsageError("several sessions of yours are running; name one with --session ID:" + listing);
    std::cerr << "Several sessions are running:\n";
    for (std::size_t i = 0; i < sessions.size(); ++i)
        std::cerr << "  " << (i + 1) << ") " << describe(sessions[i]) << "\n";
    std::cerr << "Which one (1-" << sessions.size() << ")? ";
    std::string answer;
    if (!std::getline(std::cin, answer))
        throw UsageError("no session chosen");
    try {
        const std::size_t pick = std::stoul(answer);
        if (pick >= 1 && pick <= sessions.size())
            return sessions[pick - 1];
    } catch (const std::exception &) {
    }
    throw UsageError("\"" + answer + "\" is not one of 1-" + std::to_string(sessions.size()));
}

std::string entries_text(const json::value *entries) {
    std::string out;
    if (entries && entries->is_array())
        for (const json::value &e : entries->as_array())
            if (e.is_object()) {
                const json::object &entry = e.as_object();
                std::string ports;
                if (const json::value *p = entry.if_contains("ports"); p && p->is_array())
                    for (const json::value &port : p->as_array())
                        ports += (ports.empty() ? "" : ",") + json::serialize(port);
                const json::value *value = entry.if_contains("value");
                out += (out.empty() ? "" : ", ") +
                       (value && value->is_string() ? std::string(value->as_string()) : std::string("?")) +
                       " (tcp " + ports + ")";
            }
    return out;
}

}  // namespace

int live_command(Context &context, const std::string &verb, const std::vector<std::string> &args) {
    LiveArgs parsed = parse_live_args(verb, args);
    if (parsed.help) {
        std::cout << usage(verb);
        return 0;
    }
    json::object session = choose_session(context, parsed.session);
    control::Request request;
    request.id = 1;
    request.op = verb;
    request.body = json::object{{"entries", json::value_from(parsed.entries)}};
    const std::string socket = std::string(session.at("socket").as_string());
    control::Response response = control_call(socket, request, std::chrono::seconds(30));
    if (!response.ok) {
        if (response.invalid)
            throw UsageError("rustyolo " + verb + ": " + response.error + "; nothing was changed");
        throw Error("rustyolo " + verb + ": " + response.error);
    }
    const json::value *id = session.if_contains("session");
    const std::string session_id = id && id->is_string() ? std::string(id->as_string()) : "?";
    std::cerr << "rustyolo: " << (verb == "allow" ? "allowed " : "denied ") << entries_text(response.result.if_contains("applied"))
              << " in session " << session_id;
    if (verb == "deny") {
        auto count = [&](const char *key) {
            const json::value *v = response.result.if_contains(key);
            return v && v->is_number() ? json::serialize(*v) : std::string("0");
        };
        std::cerr << " (" << count("removed_addresses") << " address(es) removed from the firewall, "
                  << count("ended_flows") << " open connection(s) ended)";
    }
    std::cerr << "\n";
    if (parsed.save == "user")
        save_to_user_config(context, parsed.entries);
    else if (parsed.save == "project") {
        const json::value *project = session.if_contains("project");
        save_to_project_config(context, project && project->is_string() ? std::string(project->as_string()) : context.cwd,
                               parsed.entries);
    }
    return 0;
}

}  // namespace rustyolo::cli
