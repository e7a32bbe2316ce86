// rustyolo [AGENT], exec, shell, plan, --dry-run: from the Config to a running container.
#include "core/cli/commands.hpp"

#include "core/audit/hub.hpp"
#include "core/audit/record.hpp"
#include "core/audit/summary.hpp"
#include "core/error.hpp"
#include "core/control/frame.hpp"
#include "core/host/control_socket.hpp"
#include "core/host/git_aside_report.hpp"
#include "core/host/git_dirs.hpp"
#include "core/host/json_pretty.hpp"
#include "core/host/paths.hpp"
#include "core/host/placeholders.hpp"
#include "core/plan/plan_builder.hpp"
#include "core/host/process.hpp"
#include "core/host/session_socket.hpp"
#include "core/host/shell_quote.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace rustyolo::cli {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Removes the session's private directory (Plan file, sockets) on every exit.
class SessionFiles {
public:
    explicit SessionFiles(std::string dir) : dir_(std::move(dir)) {}
    ~SessionFiles() {
        std::error_code ec;
        if (!dir_.empty())
            fs::remove_all(dir_, ec);
    }
    SessionFiles(const SessionFiles &) = delete;
    SessionFiles &operator=(const SessionFiles &) = delete;

private:
    std::string dir_;
};

// What the session added to the project's git metadata that git could later read by name is
// moved aside (core/host/git_dirs.hpp), reported on stderr and audited (capped:
// core/host/git_aside_report.hpp). Returns false when something could not be moved.
bool move_aside_git_entries(const std::string &session, const std::string &project, const GitSnapshot &before,
                            AuditHub &audit, const std::string &by = "") {
    const MoveAsideResult result = move_aside_new_git_entries(project, before, session);
    report_moved_aside(result, AsideReportContext{project, session, by}, std::cerr,
                       [&audit](const std::string &event, json::object fields) {
                           audit.host_record("mount", "block", event, std::move(fields));
                       });
    return result.failures.empty();
}

std::vector<std::string> runtime_command(const LoadedPlugin &runtime, const Plan &plan,
                                         const std::string &plan_file, const std::string &session_dir,
                                         bool interactive) {
    json::object request{{"runtime", plan.runtime},
                         {"plan", to_json(plan)},
                         {"plan_file", plan_file},
                         {"runtime_dir", session_dir},
                         {"interactive", interactive}};
    json::value result = runtime.call("runtime.command", runtime.runtime()->command, request);
    std::vector<std::string> argv;
    if (result.is_object())
        if (const auto *a = result.as_object().if_contains("argv"); a && a->is_array())
            for (const auto &w : a->as_array())
                if (w.is_string())
                    argv.emplace_back(w.as_string());
    if (argv.empty())
        throw Error("plugin " + runtime.name() + ": runtime.command returned no argv");
    return argv;
}

void write_private_file(const std::string &path, const std::string &content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush())
        throw Error("cannot write " + path);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
}

// `rustyolo allow` / `deny` of this session, from its control socket (core/host/control_socket.hpp):
// "hello" says which session this is; "allow" and "deny" are normalised here, as --allow-domains
// is, and relayed to the supervisor.
ControlServer::Handler live_control_handler(const PluginRegistry &registry, const Plan &plan,
                                            const std::string &project, ControlRelay &relay) {
    const std::string started = audit::now_rfc3339();
    return [&registry, &plan, project, &relay, started](const control::Request &request,
                                                         const ControlPeer &peer) -> control::Response {
        control::Response response;
        response.id = request.id;
        if (request.op == "hello") {
            response.ok = true;
            response.result = json::object{{"session", plan.session}, {"agent", plan.agent.name},
                                           {"project", project},      {"started", started},
                                           {"image", plan.image}};
            return response;
        }
        if (request.op != "allow" && request.op != "deny")
            return control::refusal(request.id, "unknown request \"" + request.op + "\" (hello, allow, deny)", true);
        std::vector<std::string> requested;
        const json::value *entries = request.body.if_contains("entries");
        if (entries && entries->is_array())
            for (const json::value &entry : entries->as_array())
                if (entry.is_string())
                    requested.emplace_back(entry.as_string());
        if (!entries || !entries->is_array() || requested.size() != entries->as_array().size())
            return control::refusal(request.id, "\"entries\" must be a list of strings", true);
        json::array normalized;
        for (const PlanEgress &entry : normalize_live_entries(registry, plan.network, requested))
            normalized.push_back(to_json(entry));
        return relay.ask(request.op,
                         json::object{{"entries", std::move(normalized)},
                                      {"requested", json::value_from(requested)},
                                      {"requester", json::object{{"uid", peer.uid}, {"pid", peer.pid}}}},
                         std::chrono::seconds(20));
    };
}

}  // namespace

void check_image(const PluginRegistry &registry, const std::string &runtime, const std::string &image) {
    const LoadedPlugin &plugin = find_runtime_plugin(registry, runtime);
    if (!plugin.runtime()->image_inspect) {
        spdlog::warn("the runtime plugin {} cannot inspect images (it was built for plugin ABI {}.{}), so "
                     "whether {} exists and reads Plan schema {} is not checked",
                     plugin.name(), plugin.abi_major(), plugin.abi_minor(), image, kPlanSchema);
        return;
    }
    json::value answer;
    try {
        answer = plugin.call("runtime.image_inspect", plugin.runtime()->image_inspect,
                             json::object{{"runtime", runtime}, {"image", image}});
    } catch (const PluginCallError &e) {
        throw Error("cannot check the sandbox image " + image + ": " + e.reason);
    }
    const json::object *found = answer.if_object();
    const json::value *present = found ? found->if_contains("present") : nullptr;
    if (!present || !present->is_bool())
        throw Error("plugin " + plugin.name() + ": runtime.image_inspect answered without \"present\"");
    if (!present->as_bool()) {
        const json::value *reason = found->if_contains("reason");
        const std::string why = reason && reason->is_string() ? std::string(reason->as_string()) : "no such image";
        throw Error("the sandbox image " + image + " is not available to " + runtime + " (" + why +
                    "); build it with `rustyolo image build` (or choose another with --image)");
    }
    const json::value *label = found->if_contains("plan_schema");
    const std::string value = label && label->is_string() ? std::string(label->as_string()) : "";
    if (value != std::to_string(kPlanSchema))
        throw Error("the image " + image + " understands Plan schema \"" + value +
                    "\" but this rustyolo writes schema " + std::to_string(kPlanSchema) +
                    "; rebuild it with `rustyolo image build`");
}

int report_error(const std::exception &error) {
    std::cerr << "rustyolo: error: " << error.what() << "\n";
    return dynamic_cast<const UsageError *>(&error) ? 2 : 1;
}

int run_session(Context &context, const RunOptions &options, const SplitArgs &split) {
    BuildContext build;
    build.cwd = context.cwd;
    build.home = context.home;
    build.uid = static_cast<std::uint32_t>(::getuid());
    build.gid = static_cast<std::uint32_t>(::getgid());
    build.getenv_fn = context.getenv_fn;
    build.agent = split.agent.empty() ? context.config.agent : split.agent;
    build.agent_args = split.agent_args;
    build.agent_args_given = split.agent_args_given;
    build.session = new_session_id();
    const bool start = split.verb != "plan" && !options.dry_run;
    build.prepare_host = start;
    if (split.verb != "plan")
        build.session_dir = session_dir_path(context.getenv_fn, options.dry_run ? "dry-run" : build.session);

    // A real start is audited from the first refusal on (docs/audit-schema.md).
    std::unique_ptr<AuditHub> audit;
    if (start) {
        const Config &c = context.config;
        audit = std::make_unique<AuditHub>(
            find_audit_sinks(*context.registry, c.audit_sinks),
            AuditSessionInfo{build.session, build.agent, c.audit_log,
                             c.audit_dir,
                             c.audit_syslog_socket, c.audit_max_bytes});
        build.on_mount_refused = [&audit](const json::object &details) {
            audit->host_record("mount", "block", "refused", details);
        };
    }
    auto end_audit = [&audit](int code, const std::string &reason) {
        if (!audit || !audit->enabled())
            return;
        audit->finish(code, reason);
        if (audit->opened()) {
            std::string where;
            for (const std::string &l : audit->locations())
                where += (where.empty() ? "" : ", ") + l;
            std::cerr << format_summary(audit->blocked_counts(), where);
        }
    };

    // A start that fails: the error first, then the summary of what the audit recorded. Called
    // only from a catch block (the bare `throw;` rethrows the exception being handled).
    auto fail = [&](const std::exception &e, int audit_code, const std::string &reason) {
        if (!audit || !audit->enabled())
            throw;
        const int code = report_error(e);
        try {
            end_audit(audit_code, reason + e.what());
        } catch (const std::exception &audit_error) {
            spdlog::error("the audit record of this failed start could not be written: {}", audit_error.what());
        }
        throw ReportedError{code};
    };
    // Placeholders for missing protected paths are shared with other sessions on the project;
    // they are released (and removed by the last session out) when this function returns.
    std::unique_ptr<ProjectPlaceholders> placeholders;
    Plan plan;
    GitSnapshot git_before;
    try {
        if (start) {
            // A session found dead (its CLI killed) never moved aside what its agent added to the
            // git dirs: this one does it, under that session's id, and reports it.
            auto on_dead = [&build, &audit](const std::string &dead, const json::value &snapshot) {
                move_aside_git_entries(dead, build.cwd, git_snapshot_from_json(snapshot), *audit,
                                       "a session whose rustyolo was killed");
            };
            placeholders = std::make_unique<ProjectPlaceholders>(uid_base_dir(), build.cwd, build.session,
                                                                 on_dead);
            build.placeholders = placeholders.get();
        }
        plan = build_plan(context.config, *context.registry, build);
        if (placeholders) {
            // Taken while the registry is locked, and kept in this session's record.
            git_before = snapshot_git_dirs(build.cwd);
            placeholders->set_git_snapshot(to_json(git_before));
            placeholders->commit();
        }
    } catch (const std::exception &e) {
        fail(e, 2, "start refused: ");
    }
    // A real start is watched through the session socket; a printed --dry-run command is not.
    plan.lifeline = !options.dry_run;
    if (options.debug)
        plan.log_level = "debug";
    for (const auto &w : plan.warnings)
        spdlog::warn("{}", w);

    if (split.verb == "plan") {
        std::cout << pretty_json(to_json(plan));
        return 0;
    }

    const LoadedPlugin &runtime = find_runtime_plugin(*context.registry, plan.runtime);
    const bool interactive = ::isatty(0) && ::isatty(1);
    // A dry run writes its Plan to one fixed dir, overwritten each time, so nothing accumulates.
    std::string session_dir = options.dry_run ? make_session_dir(context.getenv_fn, "dry-run", true)
                                              : make_session_dir(context.getenv_fn, plan.session);
    std::string plan_file = session_dir + "/plan.json";
    write_private_file(plan_file, json::serialize(to_json(plan)));
    // The container's supervisor (root without DAC_OVERRIDE) reads the Plan through the mount.
    fs::permissions(session_dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    if (options.dry_run) {
        // The Plan file stays, so that the printed command is complete as it is.
        std::cout << shell_join(runtime_command(runtime, plan, plan_file, session_dir, interactive)) << "\n";
        std::cerr << "rustyolo: dry run: nothing was started; the Plan is in " << plan_file
                  << " (the printed command runs without rustyolo watching it: killing it does not "
                     "end the container)";
        if (std::any_of(plan.mounts.begin(), plan.mounts.end(), [](const PlanMount &m) { return m.placeholder; }))
            std::cerr << "; protected paths that do not exist yet are created as empty placeholders "
                         "by a real run, so create them before pasting the command";
        std::cerr << "\n";
        return 0;
    }

    SessionFiles cleanup(session_dir);
    check_image(*context.registry, plan.runtime, plan.image);
    int code = 0;
    try {
        audit->host_record("lifecycle", "info", "start",
                           json::object{{"agent", plan.agent.name},
                                        {"image", plan.image},
                                        {"runtime", plan.runtime},
                                        {"level", plan.audit.level},
                                        {"firewall", plan.network.firewall}});
        // Control responses come back among the audit records (docs/control-protocol.md).
        ControlRelay relay;
        SessionSocket lifeline(
            session_dir + "/" + kSessionSocketName,
            [&audit, &relay](std::string_view line, bool overlong) {
                // Lines may be as long as a control frame; a record only as long as a record.
                if (!overlong && control::is_frame(line))
                    relay.take(line);
                else if (line.size() > audit::kMaxWireLine)
                    audit->wire_line(line.substr(0, audit::kMaxWireLine), true);
                else
                    audit->wire_line(line, overlong);
            },
            [&relay] { relay.closed(); }, control::kMaxFrame);
        relay.attach(&lifeline);
        ControlServer control(control_socket_path(context.getenv_fn, plan.session),
                              live_control_handler(*context.registry, plan, build.cwd, relay));

        std::vector<std::string> argv = runtime_command(runtime, plan, plan_file, session_dir, interactive);
        spdlog::debug("running: {}", shell_join(argv));
        ProcessOptions process;
        process.forward_signals = true;
        code = run_foreground(argv, process);
        // The supervisor's last records (its exit record) come just before its connection closes.
        if (!lifeline.wait_closed(3000))
            spdlog::warn("the container's session connection is still open after it exited");
        // The session ran; what could not be moved aside is named, and the run fails.
        if (!move_aside_git_entries(plan.session, build.cwd, git_before, *audit) && code == 0)
            code = 1;
    } catch (const std::exception &e) {
        fail(e, 125, "start failed: ");
    }
    placeholders.reset();  // its end may move aside for a dead session, which is audited
    end_audit(code, "connection lost");
    return code;
}

}  // namespace rustyolo::cli
