// What every command needs: the environment, the plugins, and the merged configuration.
#pragma once

#include "core/private_header.hpp"

#include "core/config/config.hpp"
#include "core/host/paths.hpp"
#include "core/loader/plugin_loader.hpp"
#include "core/cli/run_options.hpp"

#include <memory>
#include <optional>
#include <string>

namespace rustyolo::cli {

struct Context {
    GetEnv getenv_fn;
    std::string cwd;    // canonical current directory (the project)
    std::string home;
    std::unique_ptr<PluginRegistry> registry;
    Config config;
    std::optional<std::string> project_config;  // path of ./.rustyolo.toml when present
};

// Loads the built-in plugins, the user's plugin dir, and every --plugin / config `plugins` entry.
// When no runtime is configured, context.config.runtime becomes the first name the first runtime
// plugin serves.
void load_plugins(Context &context, const std::vector<std::string> &extra);

// Loads defaults < user file < project file (trust-checked) < environment < CLI into context.config.
// Without `include_project` the project file is not read (for `rustyolo trust`, which must work
// precisely when that file is not trusted yet).
void load_config(Context &context, const ConfigLayer &cli_layer, bool include_project = true);

Context make_context(const GetEnv &getenv_fn);

// The directory the sources for `rustyolo image build` live in (the image recipe among them).
std::string image_source_dir();

}  // namespace rustyolo::cli
