#include "core/audit/hub.hpp"

#include "core/audit/record.hpp"
#include "core/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

namespace rustyolo {

namespace json = boost::json;

namespace {

std::string sink_plugin_name(const std::string &name) {
    return name.rfind("audit-", 0) == 0 ? name : "audit-" + name;
}

// What the supervisor could not count by key, and what refused lines stood for: keys of their own
// in the exact counts (docs/audit-schema.md, "Refused lines").
constexpr const char *kLostKey = "lifecycle lost";
constexpr const char *kRefusedKey = "lifecycle refused";

std::uint64_t count_of(const json::value *n) {
    if (!n)
        return 0;
    if (n->is_uint64())
        return n->as_uint64();
    if (n->is_int64())
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, n->as_int64()));
    return 0;
}

// The catch-all for a key once the exact counts hold kMaxBlockedKeys keys: by the key's layer, as
// audit::catch_all_summary_key does for records ("dns * *", "*:*/udp", ...).
std::string catch_all_key(const std::string &key) {
    for (const char *prefix : {"dns ", "syscall ", "mount "})
        if (key.rfind(prefix, 0) == 0)
            return std::string(prefix) + (std::string_view(prefix) == "dns " ? "* *" : "*");
    if (key.rfind("lifecycle ", 0) == 0 || key.rfind("resource ", 0) == 0)
        return key;  // few: event names
    const std::size_t slash = key.rfind('/');
    const std::string protocol = slash == std::string::npos ? "" : key.substr(slash);
    return (key.find(':') == std::string::npos ? "*" : "*:*") + (protocol.size() <= 8 ? protocol : "");
}

std::string printable_excerpt(std::string_view text) {
    std::string out;
    for (unsigned char c : text.substr(0, 120))
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    return out;
}

}  // namespace

std::vector<const LoadedPlugin *> find_audit_sinks(const PluginRegistry &registry,
                                                   const std::vector<std::string> &names) {
    std::vector<const LoadedPlugin *> sinks;
    for (const std::string &name : names) {
        const LoadedPlugin *plugin = registry.find(sink_plugin_name(name));
        if (!plugin)
            plugin = registry.find(name);
        if (!plugin || !plugin->audit()) {
            std::string known;
            for (const auto &p : registry.plugins())
                if (p->audit())
                    known += (known.empty() ? "" : ", ") + p->name();
            throw UsageError("audit sink \"" + name + "\": no loaded plugin named " + sink_plugin_name(name) +
                             " (or " + name + ") has audit hooks; the sinks there are: " +
                             (known.empty() ? "(none)" : known) + "; load a third-party sink with --plugin");
        }
        if (std::find(sinks.begin(), sinks.end(), plugin) == sinks.end())
            sinks.push_back(plugin);
    }
    return sinks;
}

AuditHub::AuditHub(std::vector<const LoadedPlugin *> sinks, AuditSessionInfo info)
    : sinks_(std::move(sinks)), info_(std::move(info)), sink_failures_(sinks_.size(), 0) {}

void AuditHub::open_sinks() {
    if (opened_ || open_failed_)
        return;
    json::object session{{"session", info_.session},     {"agent", info_.agent},
                         {"level", info_.level},         {"started", audit::now_rfc3339()},
                         {"directory", info_.directory}, {"syslog_socket", info_.syslog_socket},
                         {"max_bytes", info_.file_max_bytes}};
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
        const LoadedPlugin *sink = sinks_[i];
        json::value result;
        try {
            result = sink->call("audit.open", sink->audit()->open, session);
        } catch (const std::exception &e) {
            open_failed_ = true;
            // The sinks opened before this one are closed again: nothing of theirs stays open for
            // a session that does not start (no exit code: it never ran).
            const json::object never_ran{{"exit_code", nullptr}, {"counts", json::object{}}};
            for (std::size_t j = 0; j < i; ++j) {
                try {
                    sinks_[j]->call("audit.close", sinks_[j]->audit()->close, never_ran);
                } catch (const std::exception &close_error) {
                    spdlog::warn("audit sink {} could not close: {}", sinks_[j]->name(), close_error.what());
                }
            }
            throw Error("audit sink " + sink->name() + " cannot record this session: " + e.what() +
                        "; the agent is not started without its audit records (choose other sinks "
                        "with --audit-sink, or --audit-log none)");
        }
        const json::object *o = result.if_object();
        const json::value *location = o ? o->if_contains("location") : nullptr;
        locations_.push_back(location && location->is_string() ? std::string(location->as_string())
                                                                : sink->name());
    }
    opened_ = true;
}

void AuditHub::write(json::object wire) {
    if (!audit::level_admits(info_.level, wire.at("verdict").as_string()))
        return;
    open_sinks();
    const std::string verdict(wire.at("verdict").as_string());
    const std::string layer(wire.at("layer").as_string());
    const std::string event(wire.at("event").as_string());
    if (verdict == "block")
        // As many events as the record stands for (audit::weight): a network "lost" record its
        // count, a resource record its "new", any other one.
        count_blocked(audit::summary_key(wire), audit::weight(wire));
    if (layer == "lifecycle" && event == "suppressed") {
        const json::object &details = wire.at("details").as_object();
        const json::value *counts = details.if_contains("counts");
        if (counts && counts->is_object())
            if (const json::value *block = counts->as_object().if_contains("block"); block && block->is_object())
                for (const auto &[key, n] : block->as_object())
                    count_blocked(std::string(key), count_of(&n));
        // Records the supervisor could not even count by key.
        if (const json::value *lost = details.if_contains("lost"); lost && lost->is_object())
            if (std::uint64_t n = count_of(lost->as_object().if_contains("block")))
                count_blocked(kLostKey, n);
    }
    if (layer == "lifecycle" && event == "exit")
        exit_seen_ = true;
    json::object record{{"schema", audit::kSchema},
                        {"time", wire.at("time")},
                        {"session", info_.session},
                        {"seq", ++seq_},
                        {"layer", layer},
                        {"verdict", verdict},
                        {"event", event},
                        {"details", wire.at("details")}};
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
        try {
            sinks_[i]->call("audit.event", sinks_[i]->audit()->event, record);
        } catch (const std::exception &e) {
            if (sink_failures_[i]++ == 0)
                spdlog::warn("audit sink {} failed to take a record: {} (further failures are counted)",
                             sinks_[i]->name(), e.what());
        }
    }
}

void AuditHub::count_blocked(const std::string &key, std::uint64_t n) {
    if (n == 0)
        return;
    if (auto it = blocked_.find(key); it != blocked_.end()) {
        it->second += n;
        return;
    }
    // A long flood of distinct keys must not grow the host's memory without end: the total stays
    // exact, the detail of further keys goes to a catch-all.
    if (blocked_.size() < kMaxBlockedKeys)
        blocked_.emplace(key, n);
    else
        blocked_[catch_all_key(key)] += n;
}

void AuditHub::host_record(std::string_view layer, std::string_view verdict, std::string_view event,
                           json::object details) {
    if (!enabled())
        return;
    std::lock_guard lock(mutex_);
    if (finished_)
        return;
    write(audit::make_record(layer, verdict, event, std::move(details)));
}

void AuditHub::wire_line(std::string_view line, bool overlong) {
    if (!enabled())
        return;
    try {
        std::lock_guard lock(mutex_);
        if (finished_)
            return;
        std::string problem;
        json::value value;
        if (overlong) {
            problem = "line longer than " + std::to_string(audit::kMaxWireLine) + " bytes";
        } else {
            boost::system::error_code ec;
            json::parse_options options;
            options.max_depth = 16;
            value = json::parse(line, ec, {}, options);
            if (ec)
                problem = "not JSON (" + ec.message() + ")";
            else if (auto p = audit::check_wire_record(value))
                problem = *p;
        }
        if (!problem.empty()) {
            if (refused_lines_++ == 0)
                first_refusal_ = problem + ": " + printable_excerpt(line);
            account_refused(line);
            return;
        }
        if (open_failed_)
            return;
        write(std::move(value.as_object()));
    } catch (const std::exception &e) {
        spdlog::warn("audit: a record from the container could not be written: {}", e.what());
    }
}

void AuditHub::account_refused(std::string_view line) {
    // What the line stood for, as far as it can be read: a suppressed record's "total" (written
    // first by the supervisor, so a cut line keeps it), else the events of the verdict it names
    // that a record of its event stands for (audit::weight; unknown when cut before its weight).
    const audit::Salvage salvage = audit::salvage_line(line);
    static constexpr const char *kVerdicts[] = {"block", "allow", "info"};
    std::uint64_t events[3] = {0, 0, 0};
    if (salvage.has_total) {
        std::copy(std::begin(salvage.total), std::end(salvage.total), events);
    } else {
        bool known = false;
        for (std::size_t i = 0; i < 3; ++i)
            if (salvage.verdict == kVerdicts[i] && salvage.event != "suppressed" && salvage.weight_known) {
                events[i] = salvage.weight;  // audit::weight, as far as the line could be read
                known = true;
            }
        if (!known) {
            ++refused_unknown_;
            return;
        }
    }
    for (std::size_t i = 0; i < 3; ++i)
        refused_events_[i] += events[i];
    if (events[0] > 0 && audit::level_admits(info_.level, "block"))
        count_blocked(kRefusedKey, events[0]);
}

void AuditHub::finish(int exit_code, const std::string &reason) {
    if (!enabled())
        return;
    std::lock_guard lock(mutex_);
    if (finished_)
        return;
    try {
        if (refused_lines_ > 0)
            write(audit::make_record("lifecycle", "info", "transport",
                                     json::object{{"problem", "malformed record"},
                                                  {"count", refused_lines_},
                                                  {"first", first_refusal_},
                                                  {"events", json::object{{"block", refused_events_[0]},
                                                                          {"allow", refused_events_[1]},
                                                                          {"info", refused_events_[2]}}},
                                                  {"unknown", refused_unknown_}}));
        if (!exit_seen_ && opened_)
            write(audit::make_record("lifecycle", "info", "exit",
                                     json::object{{"exit_code", exit_code}, {"reason", reason}}));
    } catch (const std::exception &e) {
        spdlog::warn("audit: {}", e.what());
    }
    finished_ = true;
    if (!opened_)
        return;
    json::object counts;
    for (const auto &[key, n] : blocked_)
        counts[key] = n;
    json::object summary{{"exit_code", exit_code}, {"counts", std::move(counts)}};
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
        try {
            sinks_[i]->call("audit.close", sinks_[i]->audit()->close, summary);
        } catch (const std::exception &e) {
            spdlog::warn("audit sink {} could not close: {}", sinks_[i]->name(), e.what());
        }
        if (sink_failures_[i] > 1)
            spdlog::warn("audit sink {} failed to take {} records", sinks_[i]->name(), sink_failures_[i]);
    }
}

std::map<std::string, std::uint64_t> AuditHub::blocked_counts() const {
    std::lock_guard lock(mutex_);
    return blocked_;
}

std::vector<std::string> AuditHub::locations() const {
    std::lock_guard lock(mutex_);
    return locations_;
}

bool AuditHub::opened() const {
    std::lock_guard lock(mutex_);
    return opened_;
}

}  // namespace rustyolo
