// rustyolo-entrypoint: PID 1 of the sandbox container. It applies the session's Plan with the
// plugins' in-container hooks, drops every privilege, execs the agent and supervises it.
//
// The procedure stops at the first step that fails, naming it, and exits 125 (the agent's own
// exit codes pass through unchanged; 127: its program could not be run).
#include "entrypoint/agent_account.hpp"
#include "entrypoint/agent_process.hpp"
#include "entrypoint/audit_channel.hpp"
#include "entrypoint/container_plugins.hpp"
#include "entrypoint/diagnostics.hpp"
#include "entrypoint/environment.hpp"
#include "entrypoint/fds.hpp"
#include "entrypoint/lifeline.hpp"
#include "entrypoint/live_policy.hpp"
#include "entrypoint/mount_check.hpp"
#include "entrypoint/network.hpp"
#include "entrypoint/plan_file.hpp"
#include "entrypoint/project_owner.hpp"
#include "entrypoint/resource_watch.hpp"
#include "entrypoint/setup_error.hpp"
#include "entrypoint/signals.hpp"
#include "entrypoint/supervisor.hpp"
#include "entrypoint/syscall_reporter.hpp"
#include "entrypoint/terminal.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace rustyolo;
using namespace rustyolo::entrypoint;

// Control requests are answered while this lives; its end waits for a running one, so the plugins
// it calls outlive it (declared after them, destroyed before them).
struct ControlHandlerScope {
    explicit ControlHandlerScope(ControlHandler handler) { set_control_handler(std::move(handler)); }
    ~ControlHandlerScope() { set_control_handler({}); }
    ControlHandlerScope(const ControlHandlerScope &) = delete;
    ControlHandlerScope &operator=(const ControlHandlerScope &) = delete;
};

// A terminating signal arrived while the sandbox was being set up: stop before the agent exists.
struct Interrupted {
    int signal;
};

void stop_if_interrupted() {
    if (int sig = pending_termination())
        throw Interrupted{sig};
}

int run() {
    LoadedPlan loaded = run_step("plan", [] { return load_plan(kPlanContainerPath); });
    const Plan &plan = loaded.plan;
    apply_plan_log_level(plan.log_level);
    if (plan.lifeline) {
        // One connection carries both: its end is the lifeline, and the audit records go over it.
        UniqueFd connection = run_step("lifeline", [] { return connect_lifeline(kSessionSocketContainerPath); });
        const int records = ::fcntl(connection.get(), F_DUPFD_CLOEXEC, 3);
        if (records < 0)
            throw_errno("fcntl(F_DUPFD_CLOEXEC) on the session socket");
        audit_start(records, plan.audit.level);
        watch_lifeline(std::move(connection));
    } else {
        audit_start(-1, plan.audit.level);
    }
    stop_if_interrupted();

    // Before anything acts on the mounts: they are what the CLI checked (mount_check.hpp).
    // The agent works on its own project (project_owner.hpp); first, as the mount check below
    // looks the mounts up with the agent's ids.
    run_step("project owner", [&] { check_project_owner(plan.workdir, plan.user.uid); });
    run_step("mounts", [&] { verify_mounts(plan); });
    PluginRegistry registry(HostServices{"container", audit_emit_from_plugin});
    ContainerPlugins plugins = run_step(
        "plugins", [&] { return load_container_plugins(registry, plan, RUSTYOLO_CONTAINER_PLUGIN_DIR); });
    stop_if_interrupted();

    run_step("network", [&] { apply_network_policy(plugins, loaded.document); });
    // From here on the host may change the network policy of the running session (live_policy.hpp).
    // The handler goes before the plugins do (ControlHandlerScope).
    ControlHandlerScope live_changes(live_policy_handler(plugins.firewall()));
    stop_if_interrupted();

    AgentAccount account = run_step("user", [&] { return ensure_agent_account(plan.user); });
    std::vector<std::string> env = run_step("environment", [&] {
        return agent_environment(plan, account, [](const char *n) { return std::getenv(n); });
    });

    // The agent gets the terminal (when there is one): its own session, job control, Ctrl-C.
    const bool terminal = release_controlling_terminal();
    AgentLaunch launch{plan.agent.argv, std::move(env), plan.workdir,    account.uid,
                       account.gid,     terminal,       plugins.syscall, &loaded.document};
    stop_if_interrupted();
    StartedAgent agent = run_step("agent", [&] { return start_agent(launch); });
    // [syscall audit] answers the agent's seccomp notifications, emits "syscall denied" records
    // (syscall_reporter.hpp); stopped once the agent and what it left are gone.
    start_syscall_reporter(std::move(agent.syscall_reports), agent.pid);
    ResourceWatch resources(plan.resources, scratch_mounts(plan));
    const int code = supervise(agent.pid, account.uid);
    resources.stop();
    stop_syscall_reporter();
    return code;
}

}  // namespace

int main() {
    // Before anything can start a thread: see signals.hpp.
    block_supervisor_signals();
    ensure_standard_fds();
    setup_logging();
    int code = kExitSetupFailed;
    std::string reason = "agent exited";
    try {
        code = run();
    } catch (const SetupError &e) {
        report("error", describe(e));
        reason = "setup failed: " + describe(e);
    } catch (const Interrupted &i) {
        reason = std::string("interrupted by SIG") + ::sigabbrev_np(i.signal) +
                 " while setting up the sandbox; the agent was not started";
        report("error", reason);
        code = 128 + i.signal;
    } catch (const std::exception &e) {
        report("error", e.what());
        reason = std::string("setup failed: ") + e.what();
    }
    // The supervisor's own CPU time, all its threads (packet log, DNS feed, syscall reporter, audit
    // writer): what the sandbox cost beyond the agent.
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto ms = [](const timeval &t) { return static_cast<long>(t.tv_sec * 1000 + t.tv_usec / 1000); };
    const long cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
    spdlog::info("supervisor CPU time: {} ms (user {} ms, system {} ms)", cpu_ms, ms(usage.ru_utime),
                 ms(usage.ru_stime));
    audit_emit("lifecycle", "info", "exit",
               boost::json::object{{"exit_code", code}, {"reason", reason}, {"supervisor_cpu_ms", cpu_ms}});
    audit_finish();
    return code;
}
