#include "core/cli/context.hpp"
#include "core/plan/plan_builder.hpp"

#include "core/config/config_env.hpp"
#include "core/config/config_toml.hpp"
#include "core/error.hpp"
#include "core/config/project_file.hpp"
#include "core/config/trust.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <filesystem>

namespace rustyolo::cli {

namespace fs = std::filesystem;

Context make_context(const GetEnv &getenv_fn) {
    Context context;
    context.getenv_fn = getenv_fn;
    std::error_code ec;
    context.cwd = fs::canonical(fs::current_path(ec), ec).string();
    if (ec)
        throw Error("cannot resolve the current directory: " + ec.message());
    context.home = home_dir(getenv_fn);
    return context;
}

void load_plugins(Context &context, const std::vector<std::string> &extra) {
    context.registry = std::make_unique<PluginRegistry>(HostServices{"host", {}});
    std::string builtin = builtin_plugin_dir();
    std::string user = user_plugin_dir(context.getenv_fn);
    context.registry->load_dir(builtin, true);
    context.registry->load_dir(user, false);
    for (const auto &argument : extra) {
        std::string path = resolve_plugin_argument(argument, context.cwd, {builtin, user});
        bool already = false;
        for (const auto &p : context.registry->plugins())
            if (p->path() == path)
                already = true;
        if (!already)
            context.registry->load(path, false);
    }
    // No runtime configured: the first one the first runtime plugin serves.
    if (context.config.runtime.empty())
        context.config.runtime = default_runtime(*context.registry);
}

void load_config(Context &context, const ConfigLayer &cli_layer, bool include_project) {
    std::vector<ConfigLayer> base{default_layer()};
    std::string user_path = user_config_path(context.getenv_fn);
    std::error_code ec;
    if (!user_path.empty() && fs::exists(user_path, ec))
        base.push_back(load_config_file(user_path, Source::user_file));

    ConfigLayer env = environment_layer(context.getenv_fn);
    std::vector<ConfigLayer> layers = base;
    std::optional<ConfigLayer> project;
    std::string project_path = context.cwd + "/.rustyolo.toml";
    // Read once: the bytes that are parsed are the bytes whose trust is checked (the project is
    // writable by the agent, so a second read could see different content).
    std::optional<std::string> content = include_project ? read_project_config(project_path) : std::nullopt;
    if (content) {
        context.project_config = project_path;
        project = parse_config_text(*content, project_path, Source::project_file);
        std::vector<std::string> inside = paths_into_project(*project, context.cwd, context.home);
        if (!inside.empty())
            throw UsageError(paths_into_project_error(project_path, inside));
        std::vector<std::string> changes = widening_changes(*project, merge(base));
        if (!changes.empty()) {
            TrustStore store(state_dir(context.getenv_fn));
            if (!store.is_trusted(project_path, *content))
                throw UsageError(untrusted_project_error(project_path, changes));
            spdlog::info("{} widens the policy; you trusted this exact content", project_path);
            layers.push_back(*project);
            layers.push_back(env);
            layers.push_back(cli_layer);
            context.config = merge(layers);
            return;
        }
        layers.push_back(*project);
    }
    layers.push_back(env);
    layers.push_back(cli_layer);
    context.config = merge(layers);
    if (project)
        context.config = apply_project_narrowing(context.config, *project, {env, cli_layer});
}

std::string image_source_dir() {
    // Installed: <prefix>/share/rustyolo/source; build tree: the source dir it was built from.
    fs::path installed = fs::path(executable_dir()).parent_path() / "share" / "rustyolo" / "source";
    // The entrypoint's sources mark a complete tree (the runtime plugin's image recipe lives there).
    std::error_code ec;
    if (fs::exists(installed / "entrypoint" / "CMakeLists.txt", ec))
        return installed.string();
    if (fs::exists(fs::path(RUSTYOLO_SOURCE_DIR) / "entrypoint" / "CMakeLists.txt", ec))
        return RUSTYOLO_SOURCE_DIR;
    throw Error("cannot find the image sources (entrypoint/) under " + installed.string() +
                "; reinstall rustyolo with scripts/install.sh");
}

}  // namespace rustyolo::cli
