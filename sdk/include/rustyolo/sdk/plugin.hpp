// rustyolo C++ plugin SDK (header-only).
//
// Write a plugin as one class that derives from rustyolo::sdk::Plugin and from one base class per
// hook it implements (AgentHook, NetworkHook, MountHook, ResourceHook, SyscallHook, AuditHook,
// RuntimeHook), then export it with
//
//     RUSTYOLO_PLUGIN(MyPlugin, "my-plugin", "1.0.0", "What it does in one line")
//
// in exactly one source file. The macro fills the C descriptor of plugin_abi.h, wires each hook
// table the class implements, and wraps every call in an exception firewall: no exception ever
// crosses the shared-object boundary. Throw InvalidInput for bad user input (the host reports it as
// such), Unsupported for a request this plugin does not serve, anything else for a failure.
#pragma once

#include <rustyolo/abi/plugin_abi.h>

#include <boost/json.hpp>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rustyolo::sdk {

namespace json = boost::json;

// The input was invalid. The message must name the value, why it is wrong and what to do.
class InvalidInput : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// This plugin does not serve the request (e.g. an agent name it does not know).
class Unsupported : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class LogLevel : int32_t {
    trace = RUSTYOLO_LOG_TRACE,
    debug = RUSTYOLO_LOG_DEBUG,
    info = RUSTYOLO_LOG_INFO,
    warn = RUSTYOLO_LOG_WARN,
    error = RUSTYOLO_LOG_ERROR,
};

// The host's services, as seen from a plugin.
class Host {
public:
    explicit Host(const rustyolo_host_api *api)
        : api_(api),
          config_(api && api->config_json && *api->config_json ? json::parse(api->config_json)
                                                                : json::value(json::object{})) {}

    void log(LogLevel level, std::string_view message) const {
        if (api_ && api_->log) {
            std::string copy(message);
            api_->log(api_->ctx, static_cast<int32_t>(level), copy.c_str());
        }
    }
    void audit(const json::object &event) const {
        if (api_ && api_->audit) {
            std::string text = json::serialize(event);
            api_->audit(api_->ctx, text.c_str());
        }
    }
    // This plugin's configuration (a JSON object, empty when none was given).
    const json::value &config() const { return config_; }
    // "host" or "container".
    std::string_view side() const { return api_ && api_->side ? api_->side : "host"; }

private:
    const rustyolo_host_api *api_;
    json::value config_;
};

// Every plugin class derives from this. The constructor receives the Host.
class Plugin {
public:
    explicit Plugin(Host &host) : host_(host) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin &) = delete;
    Plugin &operator=(const Plugin &) = delete;

protected:
    Host &host() const { return host_; }

private:
    Host &host_;
};

// Hook interfaces. JSON shapes are those documented in plugin_abi.h and docs/plugin-guide.md.
class AgentHook {
public:
    virtual ~AgentHook() = default;
    virtual std::vector<std::string> agent_names() = 0;
    virtual json::value agent_profile(const json::object &request) = 0;
};

class NetworkHook {
public:
    virtual ~NetworkHook() = default;
    virtual json::value normalize(const json::object &request) = 0;
    virtual json::value install(const json::object & /*plan*/) {
        throw Unsupported("this network plugin has no container part");
    }
    virtual json::value self_test(const json::object & /*plan*/) {
        return json::object{{"checks", json::array{}}};
    }
    // A live change of the running session's policy (plugin_abi.h, network update).
    virtual json::value update(const json::object & /*request*/) {
        throw Unsupported("this network plugin cannot change a running session's policy");
    }
};

class MountHook {
public:
    virtual ~MountHook() = default;
    virtual json::value judge(const json::object &request) = 0;
};

class ResourceHook {
public:
    virtual ~ResourceHook() = default;
    virtual json::value resolve(const json::object &request) = 0;
};

class SyscallHook {
public:
    virtual ~SyscallHook() = default;
    virtual json::value prepare(const json::object &request) = 0;
    virtual json::value install(const json::object &plan) = 0;
};

class AuditHook {
public:
    virtual ~AuditHook() = default;
    virtual json::value open(const json::object &session) = 0;
    virtual void event(const json::object &event) = 0;
    virtual void close(const json::object &summary) = 0;
    // ABI 1.1: reads the sink's past sessions back ({"action": "list"|"read", ...}, plugin_abi.h).
    // The default: this sink keeps nothing it can read back.
    virtual json::value read(const json::object & /*request*/) {
        throw Unsupported("this audit sink cannot read its sessions back");
    }
};

class RuntimeHook {
public:
    virtual ~RuntimeHook() = default;
    virtual std::vector<std::string> runtime_names() = 0;
    virtual json::value command(const json::object &request) = 0;
    // ABI 1.1: what the engine knows of an image (plugin_abi.h). The default: it cannot tell.
    virtual json::value image_inspect(const json::object & /*request*/) {
        throw Unsupported("this runtime plugin cannot inspect images");
    }
    // ABI 1.1: the command that builds a sandbox image (plugin_abi.h). The default: it cannot.
    virtual json::value image_build(const json::object & /*request*/) {
        throw Unsupported("this runtime plugin cannot build images");
    }
    // ABI 1.1: whether and how an image reference is pulled (plugin_abi.h). The default: never
    // (the host builds the image).
    virtual json::value image_pull(const json::object & /*request*/) {
        return json::object{{"pull", false}};
    }
};

namespace detail {

// One plugin instance as the host sees it: the Host wrapper, the user's object, the last error.
struct Instance {
    std::unique_ptr<Host> host;
    std::unique_ptr<Plugin> plugin;
    std::string last_error;
};

inline std::string &create_error() {
    static thread_local std::string error;
    return error;
}

inline json::object parse_object(const char *text, const char *what) {
    if (!text)
        throw InvalidInput(std::string(what) + " is missing (NULL)");
    json::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec)
        throw InvalidInput(std::string(what) + " is not valid JSON: " + ec.message());
    if (!value.is_object())
        throw InvalidInput(std::string(what) + " must be a JSON object");
    return std::move(value.as_object());
}

inline void write(const rustyolo_writer *out, const json::value &value) {
    if (!out || !out->write)
        return;
    std::string text = json::serialize(value);
    out->write(out->ctx, text.data(), text.size());
}

// The exception firewall: runs `body`, writes its JSON result, maps exceptions to statuses.
template <class Body>
rustyolo_status guarded(void *instance, const rustyolo_writer *out, Body &&body) noexcept {
    auto *self = static_cast<Instance *>(instance);
    if (!self)
        return RUSTYOLO_ERROR;
    try {
        self->last_error.clear();
        write(out, body(*self->plugin));
        return RUSTYOLO_OK;
    } catch (const InvalidInput &e) {
        self->last_error = e.what();
        return RUSTYOLO_INVALID;
    } catch (const Unsupported &e) {
        self->last_error = e.what();
        return RUSTYOLO_UNSUPPORTED;
    } catch (const std::exception &e) {
        self->last_error = e.what();
        return RUSTYOLO_ERROR;
    } catch (...) {
        self->last_error = "unknown exception (not derived from std::exception)";
        return RUSTYOLO_ERROR;
    }
}

// Cross-cast from the Plugin base to a hook interface of the same object. Every table is only
// published when P derives from that hook, so the cast cannot fail at run time.
template <class Hook, class P>
Hook &as(Plugin &plugin) {
    return dynamic_cast<Hook &>(plugin);
}

inline json::array to_array(const std::vector<std::string> &names) {
    json::array array;
    for (const auto &name : names)
        array.emplace_back(name);
    return array;
}

// Fills the C descriptor for plugin class P.
template <class P>
struct Glue {
    static void *create(const rustyolo_host_api *api) noexcept {
        try {
            auto instance = std::make_unique<Instance>();
            instance->host = std::make_unique<Host>(api);
            instance->plugin = std::make_unique<P>(*instance->host);
            return instance.release();
        } catch (const std::exception &e) {
            create_error() = e.what();
        } catch (...) {
            create_error() = "unknown exception in plugin constructor";
        }
        return nullptr;
    }
    static void destroy(void *instance) noexcept {
        try {
            delete static_cast<Instance *>(instance);
        } catch (...) {
        }
    }
    static const char *last_error(void *instance) noexcept {
        if (!instance)
            return create_error().c_str();
        return static_cast<Instance *>(instance)->last_error.c_str();
    }

    static rustyolo_status agent_names(void *i, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [](Plugin &p) -> json::value {
            return to_array(as<AgentHook, P>(p).agent_names());
        });
    }
    static rustyolo_status agent_profile(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<AgentHook, P>(p).agent_profile(parse_object(req, "agent profile request"));
        });
    }
    static rustyolo_status net_normalize(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<NetworkHook, P>(p).normalize(parse_object(req, "network request"));
        });
    }
    static rustyolo_status net_install(void *i, const char *plan, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [plan](Plugin &p) -> json::value {
            return as<NetworkHook, P>(p).install(parse_object(plan, "plan"));
        });
    }
    static rustyolo_status net_self_test(void *i, const char *plan, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [plan](Plugin &p) -> json::value {
            return as<NetworkHook, P>(p).self_test(parse_object(plan, "plan"));
        });
    }
    static rustyolo_status net_update(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<NetworkHook, P>(p).update(parse_object(req, "network update request"));
        });
    }
    static rustyolo_status mount_judge(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<MountHook, P>(p).judge(parse_object(req, "mount request"));
        });
    }
    static rustyolo_status resource_resolve(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<ResourceHook, P>(p).resolve(parse_object(req, "resource request"));
        });
    }
    static rustyolo_status syscall_prepare(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<SyscallHook, P>(p).prepare(parse_object(req, "syscall request"));
        });
    }
    static rustyolo_status syscall_install(void *i, const char *plan, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [plan](Plugin &p) -> json::value {
            return as<SyscallHook, P>(p).install(parse_object(plan, "plan"));
        });
    }
    static rustyolo_status audit_open(void *i, const char *session, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [session](Plugin &p) -> json::value {
            return as<AuditHook, P>(p).open(parse_object(session, "audit session"));
        });
    }
    static rustyolo_status audit_event(void *i, const char *event, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [event](Plugin &p) -> json::value {
            as<AuditHook, P>(p).event(parse_object(event, "audit event"));
            return nullptr;
        });
    }
    static rustyolo_status audit_close(void *i, const char *summary, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [summary](Plugin &p) -> json::value {
            as<AuditHook, P>(p).close(parse_object(summary, "audit summary"));
            return nullptr;
        });
    }
    static rustyolo_status audit_read(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<AuditHook, P>(p).read(parse_object(req, "audit read request"));
        });
    }
    static rustyolo_status runtime_image_inspect(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<RuntimeHook, P>(p).image_inspect(parse_object(req, "image inspect request"));
        });
    }
    static rustyolo_status runtime_image_build(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<RuntimeHook, P>(p).image_build(parse_object(req, "image build request"));
        });
    }
    static rustyolo_status runtime_image_pull(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<RuntimeHook, P>(p).image_pull(parse_object(req, "image pull request"));
        });
    }
    static rustyolo_status runtime_names(void *i, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [](Plugin &p) -> json::value {
            return to_array(as<RuntimeHook, P>(p).runtime_names());
        });
    }
    static rustyolo_status runtime_command(void *i, const char *req, const rustyolo_writer *out) noexcept {
        return guarded(i, out, [req](Plugin &p) -> json::value {
            return as<RuntimeHook, P>(p).command(parse_object(req, "runtime request"));
        });
    }

    static const rustyolo_plugin_descriptor *descriptor(const char *name, const char *version,
                                                        const char *description) noexcept {
        static const rustyolo_agent_hooks agent{sizeof(rustyolo_agent_hooks), agent_names, agent_profile};
        static const rustyolo_network_hooks network{sizeof(rustyolo_network_hooks), net_normalize,
                                                    net_install, net_self_test, net_update};
        static const rustyolo_mount_hooks mount{sizeof(rustyolo_mount_hooks), mount_judge};
        static const rustyolo_resource_hooks resource{sizeof(rustyolo_resource_hooks), resource_resolve};
        static const rustyolo_syscall_hooks syscall{sizeof(rustyolo_syscall_hooks), syscall_prepare,
                                                    syscall_install};
        static const rustyolo_audit_hooks audit{sizeof(rustyolo_audit_hooks), audit_open, audit_event,
                                                audit_close, audit_read};
        static const rustyolo_runtime_hooks runtime{sizeof(rustyolo_runtime_hooks), runtime_names,
                                                    runtime_command, runtime_image_inspect,
                                                    runtime_image_build, runtime_image_pull};
        static const rustyolo_plugin_descriptor d{
            sizeof(rustyolo_plugin_descriptor),
            RUSTYOLO_ABI_MAJOR,
            RUSTYOLO_ABI_MINOR,
            name,
            version,
            description,
            create,
            destroy,
            last_error,
            std::is_base_of_v<AgentHook, P> ? &agent : nullptr,
            std::is_base_of_v<NetworkHook, P> ? &network : nullptr,
            std::is_base_of_v<MountHook, P> ? &mount : nullptr,
            std::is_base_of_v<ResourceHook, P> ? &resource : nullptr,
            std::is_base_of_v<SyscallHook, P> ? &syscall : nullptr,
            std::is_base_of_v<AuditHook, P> ? &audit : nullptr,
            std::is_base_of_v<RuntimeHook, P> ? &runtime : nullptr,
        };
        return &d;
    }
};

} // namespace detail

// Small helpers for reading request fields with clear errors.
inline const json::value &require(const json::object &object, std::string_view key) {
    auto it = object.find(key);
    if (it == object.end())
        throw InvalidInput("request field '" + std::string(key) + "' is missing");
    return it->value();
}

// The string field `key`, or `fallback` when it is absent or null. Any other type is refused (naming
// the field), never read as the fallback. For more than a few fields, read the request with
// JsonReader (<rustyolo/sdk/json_reader.hpp>).
inline std::string string_or(const json::object &object, std::string_view key, std::string fallback) {
    auto it = object.find(key);
    if (it == object.end() || it->value().is_null())
        return fallback;
    if (!it->value().is_string())
        throw InvalidInput("request field '" + std::string(key) + "' must be a string");
    return std::string(it->value().as_string());
}

} // namespace rustyolo::sdk

// Exports plugin class CLASS under NAME. Use once per plugin, at namespace scope.
#define RUSTYOLO_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION)                                          \
    static_assert(std::is_base_of_v<::rustyolo::sdk::Plugin, CLASS>,                                \
                  "RUSTYOLO_PLUGIN: the class must derive from rustyolo::sdk::Plugin");            \
    extern "C" __attribute__((visibility("default"))) const rustyolo_plugin_descriptor *            \
    rustyolo_plugin_entry(uint32_t host_abi_major, uint32_t /*host_abi_minor*/) {                   \
        if (host_abi_major != RUSTYOLO_ABI_MAJOR)                                                   \
            return nullptr;                                                                         \
        return ::rustyolo::sdk::detail::Glue<CLASS>::descriptor(NAME, VERSION, DESCRIPTION);        \
    }
