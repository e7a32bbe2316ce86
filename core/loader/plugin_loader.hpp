// Loads plugin shared objects (Boost.DLL, RTLD_NOW|RTLD_LOCAL, never unloaded), checks that the
// host may trust them and that their ABI matches, and wraps their hook calls in a JSON interface.
#pragma once

#include "core/private_header.hpp"

#include <rustyolo/abi/plugin_abi.h>

#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rustyolo {

// A plugin was refused at load time (trust, ABI, missing symbol). The message names the file.
class PluginLoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A hook call failed. `status` is the plugin's status code; `reason` the plugin's own message
// (its last_error), without the plugin and hook names the full message starts with.
class PluginCallError : public std::runtime_error {
public:
    PluginCallError(const std::string &message, rustyolo_status code, std::string why = {})
        : std::runtime_error(message), status(code), reason(why.empty() ? message : std::move(why)) {}
    rustyolo_status status;
    std::string reason;
};

// What the host gives every plugin it loads.
struct HostServices {
    std::string side = "host";  // "host" or "container"
    // Receives audit events emitted by plugins (JSON objects); may be empty. Plugins may emit from
    // their own threads (plugin_abi.h, "Threads"), so this must be safe to call concurrently.
    std::function<void(const std::string &plugin, const boost::json::object &event)> audit;
};

// One loaded plugin: its descriptor (copied, zero-filled past what the plugin declared), its hook
// tables, and its instance.
class LoadedPlugin {
public:
    const std::string &path() const { return path_; }
    const std::string &name() const { return name_; }
    const std::string &version() const { return version_; }
    const std::string &description() const { return description_; }
    std::uint32_t abi_major() const { return descriptor_.abi_major; }
    std::uint32_t abi_minor() const { return descriptor_.abi_minor; }
    bool builtin() const { return builtin_; }
    std::vector<std::string> hooks() const;

    const rustyolo_agent_hooks *agent() const { return has_agent_ ? &agent_ : nullptr; }
    const rustyolo_network_hooks *network() const { return has_network_ ? &network_ : nullptr; }
    const rustyolo_mount_hooks *mount() const { return has_mount_ ? &mount_ : nullptr; }
    const rustyolo_resource_hooks *resource() const { return has_resource_ ? &resource_ : nullptr; }
    const rustyolo_syscall_hooks *syscall() const { return has_syscall_ ? &syscall_ : nullptr; }
    const rustyolo_audit_hooks *audit() const { return has_audit_ ? &audit_ : nullptr; }
    const rustyolo_runtime_hooks *runtime() const { return has_runtime_ ? &runtime_ : nullptr; }

    using RequestFn = rustyolo_status (*)(void *, const char *, const rustyolo_writer *);
    using ListFn = rustyolo_status (*)(void *, const rustyolo_writer *);

    // Calls a hook function with a JSON request and returns its parsed JSON result.
    // `hook` names the call in errors ("agent.profile"). Throws PluginCallError on failure,
    // with the plugin's last_error; UsageError when the plugin rejected the input as invalid.
    boost::json::value call(const char *hook, RequestFn fn, const boost::json::value &request) const;
    boost::json::value call(const char *hook, ListFn fn) const;
    std::vector<std::string> call_names(const char *hook, ListFn fn) const;

private:
    friend class PluginRegistry;
    boost::json::value finish(const char *hook, rustyolo_status status, const std::string &out) const;

    std::string path_, name_, version_, description_;
    bool builtin_ = false;
    rustyolo_plugin_descriptor descriptor_{};
    rustyolo_agent_hooks agent_{};
    rustyolo_network_hooks network_{};
    rustyolo_mount_hooks mount_{};
    rustyolo_resource_hooks resource_{};
    rustyolo_syscall_hooks syscall_{};
    rustyolo_audit_hooks audit_{};
    rustyolo_runtime_hooks runtime_{};
    bool has_agent_ = false, has_network_ = false, has_mount_ = false, has_resource_ = false,
         has_syscall_ = false, has_audit_ = false, has_runtime_ = false;
    rustyolo_host_api host_api_{};
    struct HostContext;
    std::unique_ptr<HostContext> host_context_;
    void *instance_ = nullptr;
};

// Checks that a plugin file may be loaded: absolute path, a regular file, and neither the file nor
// its directory writable by group/others or owned by anyone but root or `euid`. Throws
// PluginLoadError naming the file and what to do.
void check_plugin_file_trust(const std::string &path, unsigned euid);

// All plugins of this process, in load order.
class PluginRegistry {
public:
    explicit PluginRegistry(HostServices services);
    ~PluginRegistry();
    PluginRegistry(const PluginRegistry &) = delete;
    PluginRegistry &operator=(const PluginRegistry &) = delete;

    // Loads one plugin file (absolute path). Throws PluginLoadError.
    LoadedPlugin &load(const std::string &path, bool builtin,
                       const boost::json::object &config = boost::json::object{});
    // Loads every *.so in `dir` (sorted by name). A missing dir is not an error.
    void load_dir(const std::string &dir, bool builtin);

    const std::vector<std::unique_ptr<LoadedPlugin>> &plugins() const { return plugins_; }
    const LoadedPlugin *find(const std::string &name) const;

private:
    HostServices services_;
    std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
};

}  // namespace rustyolo
