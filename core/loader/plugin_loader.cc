#include "core/loader/plugin_loader.hpp"

#include "core/error.hpp"

#include <boost/dll/shared_library.hpp>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace rustyolo {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Libraries are never unloaded: a plugin's code or static data may still be referenced (its
// descriptor strings, its instance) until the process ends. The handles are kept here for good.
std::vector<boost::dll::shared_library> &kept_libraries() {
    static auto *libraries = new std::vector<boost::dll::shared_library>();
    return *libraries;
}

std::string describe_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

void check_owner_and_mode(const std::string &plugin, const std::string &what, const std::string &path,
                          unsigned euid) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw PluginLoadError("plugin " + plugin + ": cannot stat " + what + " " + path + ": " +
                              std::strerror(errno));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        throw PluginLoadError("plugin " + plugin + ": refused: its " + what + " " + path +
                              " is writable by group or others (mode " + describe_mode(st.st_mode) +
                              "), so anyone could replace the code rustyolo would run; run `chmod go-w " +
                              path + "`");
    if (st.st_uid != 0 && st.st_uid != euid)
        throw PluginLoadError("plugin " + plugin + ": refused: its " + what + " " + path +
                              " is owned by uid " + std::to_string(st.st_uid) +
                              ", neither root nor you (uid " + std::to_string(euid) +
                              "); install it somewhere you own");
}

// The struct_size rule of plugin_abi.h: at least the ABI 1.0 size (`oldest`), at most what this
// host knows (a plugin of the same or an older minor cannot have a larger struct). The fields a
// plugin of an older minor does not have stay NULL.
template <class T>
bool copy_table(const std::string &path, const char *table, const T *from, T &to,
                std::size_t oldest = sizeof(T)) {
    if (!from)
        return false;
    constexpr std::uint32_t known = sizeof(T);
    if (from->struct_size < oldest || from->struct_size > known)
        throw PluginLoadError("plugin " + path + ": refused: its " + table + " table declares struct_size " +
                              std::to_string(from->struct_size) + " but ABI " +
                              std::to_string(RUSTYOLO_ABI_MAJOR) + "." + std::to_string(RUSTYOLO_ABI_MINOR) +
                              " defines it as " + std::to_string(known) + " bytes" +
                              (oldest != known ? " (" + std::to_string(oldest) + " in ABI 1.0)" : std::string()) +
                              "; the plugin was built against a different SDK — rebuild it");
    std::memset(&to, 0, sizeof to);
    std::memcpy(&to, from, from->struct_size);
    return true;
}

void string_writer(void *ctx, const char *data, size_t length) {
    static_cast<std::string *>(ctx)->append(data, length);
}

const char *status_name(rustyolo_status status) {
    switch (status) {
    case RUSTYOLO_OK: return "ok";
    case RUSTYOLO_ERROR: return "error";
    case RUSTYOLO_INVALID: return "invalid input";
    case RUSTYOLO_UNSUPPORTED: return "unsupported";
    default: return "unknown status";
    }
}

}  // namespace

struct LoadedPlugin::HostContext {
    std::string plugin;
    HostServices *services = nullptr;
};

namespace {

// Plugins may log from their own threads (plugin_abi.h, "Threads"): spdlog's free functions use the
// default logger, which the CLI and the entrypoint install with a multi-threaded sink.
void host_log(const std::string *name, int32_t level, const char *message) {
    const char *text = message ? message : "";
    switch (level) {
    case RUSTYOLO_LOG_TRACE: spdlog::trace("[{}] {}", *name, text); break;
    case RUSTYOLO_LOG_DEBUG: spdlog::debug("[{}] {}", *name, text); break;
    case RUSTYOLO_LOG_INFO: spdlog::info("[{}] {}", *name, text); break;
    case RUSTYOLO_LOG_WARN: spdlog::warn("[{}] {}", *name, text); break;
    default: spdlog::error("[{}] {}", *name, text); break;
    }
}

}  // namespace

std::vector<std::string> LoadedPlugin::hooks() const {
    std::vector<std::string> out;
    if (has_agent_) out.emplace_back("agent");
    if (has_network_) out.emplace_back("network");
    if (has_mount_) out.emplace_back("mount");
    if (has_resource_) out.emplace_back("resource");
    if (has_syscall_) out.emplace_back("syscall");
    if (has_audit_) out.emplace_back("audit");
    if (has_runtime_) out.emplace_back("runtime");
    return out;
}

json::value LoadedPlugin::finish(const char *hook, rustyolo_status status, const std::string &out) const {
    if (status != RUSTYOLO_OK) {
        const char *err = descriptor_.last_error ? descriptor_.last_error(instance_) : nullptr;
        std::string message = err && *err ? err : "(the plugin gave no reason)";
        if (status == RUSTYOLO_INVALID)
            throw UsageError(message);
        throw PluginCallError("plugin " + name_ + " (" + path_ + "): " + hook + " failed (" +
                                  status_name(status) + "): " + message,
                              status, message);
    }
    if (out.empty())
        return nullptr;
    json::error_code ec;
    json::value value = json::parse(out, ec);
    if (ec)
        throw PluginCallError("plugin " + name_ + " (" + path_ + "): " + hook +
                                  " returned invalid JSON: " + ec.message(),
                              RUSTYOLO_ERROR);
    return value;
}

json::value LoadedPlugin::call(const char *hook, RequestFn fn, const json::value &request) const {
    if (!fn)
        throw PluginCallError("plugin " + name_ + ": " + hook + " is not implemented", RUSTYOLO_UNSUPPORTED);
    std::string out;
    rustyolo_writer writer{&out, string_writer};
    std::string text = json::serialize(request);
    rustyolo_status status = fn(instance_, text.c_str(), &writer);
    return finish(hook, status, out);
}

json::value LoadedPlugin::call(const char *hook, ListFn fn) const {
    if (!fn)
        throw PluginCallError("plugin " + name_ + ": " + hook + " is not implemented", RUSTYOLO_UNSUPPORTED);
    std::string out;
    rustyolo_writer writer{&out, string_writer};
    return finish(hook, fn(instance_, &writer), out);
}

std::vector<std::string> LoadedPlugin::call_names(const char *hook, ListFn fn) const {
    json::value value = call(hook, fn);
    std::vector<std::string> names;
    if (!value.is_array())
        throw PluginCallError("plugin " + name_ + ": " + hook + " did not return an array of names",
                              RUSTYOLO_ERROR);
    for (const auto &v : value.as_array()) {
        if (!v.is_string())
            throw PluginCallError("plugin " + name_ + ": " + hook + " returned a non-string name",
                                  RUSTYOLO_ERROR);
        names.emplace_back(v.as_string());
    }
    return names;
}

void check_plugin_file_trust(const std::string &path, unsigned euid) {
    if (path.empty() || path.front() != '/')
        throw PluginLoadError("plugin \"" + path +
                              "\": refused: plugin paths must be absolute (relative paths depend on "
                              "the directory you run in); give the full path or a name from the "
                              "trusted plugin directories");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw PluginLoadError("plugin " + path + ": cannot open: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw PluginLoadError("plugin " + path + ": refused: not a regular file");
    check_owner_and_mode(path, "file", path, euid);
    check_owner_and_mode(path, "directory", fs::path(path).parent_path().string(), euid);
}

PluginRegistry::PluginRegistry(HostServices services) : services_(std::move(services)) {}

PluginRegistry::~PluginRegistry() {
    for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it)
        if ((*it)->descriptor_.destroy && (*it)->instance_)
            (*it)->descriptor_.destroy((*it)->instance_);
}

const LoadedPlugin *PluginRegistry::find(const std::string &name) const {
    for (const auto &p : plugins_)
        if (p->name() == name)
            return p.get();
    return nullptr;
}

LoadedPlugin &PluginRegistry::load(const std::string &path, bool builtin, const json::object &config) {
    check_plugin_file_trust(path, static_cast<unsigned>(::geteuid()));

    boost::dll::shared_library library;
    try {
        library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception &e) {
        throw PluginLoadError("plugin " + path + ": cannot load: " + e.what());
    }
    if (!library.has(RUSTYOLO_PLUGIN_ENTRY_SYMBOL))
        throw PluginLoadError("plugin " + path + ": refused: it does not export " +
                              std::string(RUSTYOLO_PLUGIN_ENTRY_SYMBOL) +
                              "; is it a rustyolo plugin built with RUSTYOLO_PLUGIN()?");
    auto entry = library.get<const rustyolo_plugin_descriptor *(std::uint32_t, std::uint32_t)>(
        RUSTYOLO_PLUGIN_ENTRY_SYMBOL);
    kept_libraries().push_back(library);

    const rustyolo_plugin_descriptor *d = entry(RUSTYOLO_ABI_MAJOR, RUSTYOLO_ABI_MINOR);
    const std::string host_version =
        std::to_string(RUSTYOLO_ABI_MAJOR) + "." + std::to_string(RUSTYOLO_ABI_MINOR);
    if (!d)
        throw PluginLoadError("plugin " + path + ": refused: it declined host ABI " + host_version +
                              " (it was built for another major version)");
    const std::string plugin_version = std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
    if (d->abi_major != RUSTYOLO_ABI_MAJOR)
        throw PluginLoadError("plugin " + path + ": refused: built for plugin ABI " + plugin_version +
                              ", this rustyolo speaks ABI " + host_version +
                              " (the major version must match); rebuild the plugin against the SDK "
                              "of this rustyolo");
    if (d->abi_minor > RUSTYOLO_ABI_MINOR)
        throw PluginLoadError("plugin " + path + ": refused: built for plugin ABI " + plugin_version +
                              ", newer than this rustyolo's ABI " + host_version +
                              "; upgrade rustyolo or rebuild the plugin against this SDK");

    auto plugin = std::unique_ptr<LoadedPlugin>(new LoadedPlugin());
    plugin->path_ = path;
    plugin->builtin_ = builtin;
    if (d->struct_size < offsetof(rustyolo_plugin_descriptor, runtime) + sizeof(void *) ||
        d->struct_size > sizeof(rustyolo_plugin_descriptor))
        throw PluginLoadError("plugin " + path + ": refused: its descriptor declares struct_size " +
                              std::to_string(d->struct_size) + " but ABI " + plugin_version +
                              " defines it as " + std::to_string(sizeof(rustyolo_plugin_descriptor)) +
                              " bytes; the plugin is corrupt or was built against a different SDK");
    std::memcpy(&plugin->descriptor_, d, d->struct_size);
    const auto &desc = plugin->descriptor_;
    if (!desc.name || !*desc.name || !desc.create || !desc.last_error)
        throw PluginLoadError("plugin " + path + ": refused: its descriptor lacks a required field "
                              "(name, create and last_error are required)");
    plugin->name_ = desc.name;
    plugin->version_ = desc.version ? desc.version : "";
    plugin->description_ = desc.description ? desc.description : "";
    if (const LoadedPlugin *other = find(plugin->name_))
        throw PluginLoadError("plugin " + path + ": refused: another plugin named \"" + plugin->name_ +
                              "\" is already loaded from " + other->path() +
                              "; remove one of them or drop the --plugin flag");

    plugin->has_agent_ = copy_table(path, "agent", desc.agent, plugin->agent_);
    plugin->has_network_ = copy_table(path, "network", desc.network, plugin->network_, RUSTYOLO_NETWORK_HOOKS_SIZE_1_0);
    plugin->has_mount_ = copy_table(path, "mount", desc.mount, plugin->mount_);
    plugin->has_resource_ = copy_table(path, "resource", desc.resource, plugin->resource_);
    plugin->has_syscall_ = copy_table(path, "syscall", desc.syscall, plugin->syscall_);
    plugin->has_audit_ = copy_table(path, "audit", desc.audit, plugin->audit_, RUSTYOLO_AUDIT_HOOKS_SIZE_1_0);
    plugin->has_runtime_ =
        copy_table(path, "runtime", desc.runtime, plugin->runtime_, RUSTYOLO_RUNTIME_HOOKS_SIZE_1_0);

    plugin->host_context_ = std::make_unique<LoadedPlugin::HostContext>();
    plugin->host_context_->plugin = plugin->name_;
    plugin->host_context_->services = &services_;
    std::string config_text = json::serialize(config);
    plugin->host_api_.struct_size = sizeof(rustyolo_host_api);
    plugin->host_api_.abi_major = RUSTYOLO_ABI_MAJOR;
    plugin->host_api_.abi_minor = RUSTYOLO_ABI_MINOR;
    plugin->host_api_.ctx = plugin->host_context_.get();
    plugin->host_api_.log = [](void *ctx, int32_t level, const char *message) {
        host_log(&static_cast<LoadedPlugin::HostContext *>(ctx)->plugin, level, message);
    };
    plugin->host_api_.audit = [](void *ctx, const char *event_json) {
        auto *host = static_cast<LoadedPlugin::HostContext *>(ctx);
        if (!host->services->audit || !event_json)
            return;
        json::error_code ec;
        json::value event = json::parse(event_json, ec);
        if (ec || !event.is_object()) {
            spdlog::warn("[{}] dropped an audit event that is not a JSON object", host->plugin);
            return;
        }
        host->services->audit(host->plugin, event.as_object());
    };
    plugin->host_api_.config_json = config_text.c_str();
    plugin->host_api_.side = services_.side == "container" ? "container" : "host";

    plugin->instance_ = desc.create(&plugin->host_api_);
    plugin->host_api_.config_json = nullptr;  // only valid during create()
    if (!plugin->instance_) {
        const char *err = desc.last_error(nullptr);
        throw PluginLoadError("plugin " + path + ": create() failed: " +
                              (err && *err ? err : "(no reason given)"));
    }
    spdlog::debug("loaded plugin {} {} from {} (ABI {})", plugin->name_, plugin->version_, path,
                  plugin_version);
    plugins_.push_back(std::move(plugin));
    return *plugins_.back();
}

void PluginRegistry::load_dir(const std::string &dir, bool builtin) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return;
    std::vector<std::string> files;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".so")
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const auto &file : files)
        load(file, builtin);
}

}  // namespace rustyolo
