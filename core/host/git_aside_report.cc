#include "core/host/git_aside_report.hpp"

#include <cstdio>
#include <filesystem>

namespace rustyolo {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string printable(const std::string &text) {
    std::string out;
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

void report_moved_aside(const MoveAsideResult &result, const AsideReportContext &ctx, std::ostream &err,
                        const std::function<void(const std::string &, json::object)> &record) {
    const std::string whose = ctx.by.empty() ? "the session" : ctx.by + " (session " + ctx.session + ")";
    const auto host = [&](const std::string &rel) { return (fs::path(ctx.project) / rel).string(); };
    std::size_t shown = 0;
    for (const MovedAside &m : result.moved) {
        if (shown < kAsideLinesShown)
            err << "rustyolo: " << whose << " added " << printable(m.from)
                << " to the project's git metadata; git could read it as configuration or run it, so it was "
                   "moved aside to "
                << m.to << " (look at it before you use it)\n";
        if (shown < kAsideRecordsWritten) {
            json::object fields{{"source", host(m.from)},
                                {"moved_to", host(m.to)},
                                {"rule", "git-new-entry"},
                                {"reason", "a new entry in a git dir that is not on the allow-list"}};
            if (!ctx.by.empty())
                fields["added_by_session"] = ctx.session;
            record("git_moved_aside", std::move(fields));
        }
        ++shown;
    }
    if (result.moved.size() > kAsideLinesShown)
        err << "rustyolo: ... and " << result.moved.size() - kAsideLinesShown
            << " more new entries in the project's git metadata were moved aside the same way "
               "(rustyolo-aside." << ctx.session << ".*)\n";
    if (result.moved.size() > kAsideRecordsWritten) {
        json::object fields{{"count", result.moved.size()},
                            {"recorded", kAsideRecordsWritten},
                            {"pattern", "rustyolo-aside." + ctx.session + ".*"},
                            {"project", ctx.project},
                            {"rule", "git-new-entry"}};
        if (!ctx.by.empty())
            fields["added_by_session"] = ctx.session;
        record("git_moved_aside_total", std::move(fields));
    }
    std::size_t failed = 0;
    for (const AsideFailure &f : result.failures) {
        if (failed < kAsideLinesShown)
            err << "rustyolo: error: cannot move aside " << printable(host(f.path)) << ", which " << whose
                << " added to the project's git metadata: " << f.reason
                << "; remove or rename it yourself before running git in this project\n";
        if (failed < kAsideRecordsWritten)
            record("git_aside_failed", json::object{{"source", host(f.path)}, {"error", f.reason},
                                                    {"rule", "git-new-entry"}});
        ++failed;
    }
    if (result.failures.size() > kAsideLinesShown)
        err << "rustyolo: error: ... and " << result.failures.size() - kAsideLinesShown
            << " more entries could not be moved aside\n";
}

}  // namespace rustyolo
