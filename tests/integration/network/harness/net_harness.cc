// net-harness: a minimal stand-in for the supervisor, for testing a network plugin's container
// part in a scratch container before (and besides) the real entrypoint:
//
//   net-harness PLUGIN.so PLAN.json UID GID [--] COMMAND [ARGS...]
//
// loads the plugin as the entrypoint does (dlopen, never unloaded), calls network install(plan)
// and self_test(plan) and prints their results (lines "install: ..." / "self_test: ..." on
// stderr), then runs COMMAND as UID/GID with no capabilities and no_new_privs, and exits with its
// status. It stays alive meanwhile, like PID 1: the plugin's feeder thread lives in it. When the
// command has exited, it calls the plugin's destroy() as the supervisor does.
// Built by the pytest suite with g++ against sdk/include only.
#include <rustyolo/abi/plugin_abi.h>

#include <dlfcn.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::mutex output;

void host_log(void *, int32_t level, const char *message) {
    std::lock_guard lock(output);
    std::fprintf(stderr, "log[%d]: %s\n", level, message);
}

void host_audit(void *, const char *event) {
    std::lock_guard lock(output);
    std::fprintf(stderr, "audit: %s\n", event);
}

void collect(void *ctx, const char *data, size_t length) { static_cast<std::string *>(ctx)->append(data, length); }

[[noreturn]] void die(const std::string &message) {
    std::fprintf(stderr, "net-harness: %s\n", message.c_str());
    std::exit(125);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 6)
        die("usage: net-harness PLUGIN.so PLAN.json UID GID [--] COMMAND [ARGS...]");
    const char *plugin_path = argv[1];
    std::ifstream plan_file(argv[2]);
    std::stringstream plan_text;
    plan_text << plan_file.rdbuf();
    std::string plan = plan_text.str();
    uid_t uid = static_cast<uid_t>(std::stoul(argv[3]));
    gid_t gid = static_cast<gid_t>(std::stoul(argv[4]));
    int command_at = 5;
    if (std::string(argv[command_at]) == "--")
        ++command_at;
    if (command_at >= argc || uid == 0)
        die("a command and a non-root uid are required");

    void *handle = ::dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        die(std::string("dlopen: ") + ::dlerror());
    auto entry = reinterpret_cast<rustyolo_plugin_entry_fn>(::dlsym(handle, RUSTYOLO_PLUGIN_ENTRY_SYMBOL));
    if (!entry)
        die("no rustyolo_plugin_entry");
    const rustyolo_plugin_descriptor *descriptor = entry(RUSTYOLO_ABI_MAJOR, RUSTYOLO_ABI_MINOR);
    if (!descriptor || !descriptor->network || !descriptor->network->install)
        die("the plugin has no network install hook");
    rustyolo_host_api api{sizeof(rustyolo_host_api), RUSTYOLO_ABI_MAJOR, RUSTYOLO_ABI_MINOR, nullptr, host_log,
                          host_audit, "{}", "container"};
    void *instance = descriptor->create(&api);
    if (!instance)
        die(std::string("create: ") + descriptor->last_error(nullptr));

    std::string result;
    rustyolo_writer writer{&result, collect};
    auto ms_since = [](std::chrono::steady_clock::time_point start) {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    };
    auto start = std::chrono::steady_clock::now();
    if (descriptor->network->install(instance, plan.c_str(), &writer) != RUSTYOLO_OK)
        die(std::string("install failed: ") + descriptor->last_error(instance));
    std::fprintf(stderr, "install (%.1f ms): %s\n", ms_since(start), result.c_str());
    result.clear();
    start = std::chrono::steady_clock::now();
    if (descriptor->network->self_test(instance, plan.c_str(), &writer) != RUSTYOLO_OK)
        die(std::string("self_test failed: ") + descriptor->last_error(instance));
    std::fprintf(stderr, "self_test (%.1f ms): %s\n", ms_since(start), result.c_str());
    std::fflush(stderr);

    pid_t child = ::fork();
    if (child < 0)
        die(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, gid, gid, gid) != 0)
            die("dropping groups");
        for (int cap = 0; cap < 64; ++cap)
            ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
        if (::syscall(SYS_setresuid, uid, uid, uid) != 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            die("dropping privileges");
        ::execvp(argv[command_at], argv + command_at);
        die(std::string("exec ") + argv[command_at] + ": " + std::strerror(errno));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    // The end of the session, as the supervisor ends it: destroy() (the network plugin's final
    // audit accounting).
    descriptor->destroy(instance);
    std::fflush(stderr);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
