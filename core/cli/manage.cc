// rustyolo plugins | trust | image build | update.
#include "commands.hpp"

#include "config_env.hpp"
#include "config_toml.hpp"
#include "error.hpp"
#include "plan.hpp"
#include "plan_builder.hpp"
#include "process.hpp"
#include "shell_quote.hpp"
#include "trust.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace rustyolo::cli {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string> &items, const char *sep = ", ") {
    std::string out;
    for (const auto &item : items)
        out += (out.empty() ? "" : sep) + item;
    return out;
}

// Parses a management command's own options; returns false when CLI11 printed help or an error
// (the exit code is then in `code`).
bool parse(CLI::App &app, std::vector<std::string> args, int &code) {
    std::reverse(args.begin(), args.end());  // CLI11 takes the vector reversed
    try {
        app.parse(args);
        return true;
    } catch (const CLI::ParseError &e) {
        code = app.exit(e);
        return false;
    }
}

// npm packages of every loaded agent plugin's image recipe ("install": {"npm": [...]}).
std::vector<std::string> agent_npm_packages(const PluginRegistry &registry, const std::vector<std::string> &only) {
    std::set<std::string> packages;
    for (const auto &p : registry.plugins()) {
        if (!p->agent())
            continue;
        for (const auto &agent : p->call_names("agent.names", p->agent()->names)) {
            if (!only.empty() && std::find(only.begin(), only.end(), agent) == only.end())
                continue;
            json::object request{{"agent", agent}, {"args", json::array{"--version"}}, {"user_args", true},
                                 {"inject_message", nullptr}, {"workdir", "/app"}, {"home", "/home/agent"}};
            json::value profile = p->call("agent.profile", p->agent()->profile, request);
            const auto *install = profile.is_object() ? profile.as_object().if_contains("install") : nullptr;
            const auto *npm = install && install->is_object() ? install->as_object().if_contains("npm") : nullptr;
            if (npm && npm->is_array())
                for (const auto &pkg : npm->as_array())
                    if (pkg.is_string())
                        packages.insert(std::string(pkg.as_string()));
        }
    }
    return {packages.begin(), packages.end()};
}

int build_image(Context &context, const std::string &runtime, const std::string &image,
                const std::string &base_image, const std::vector<std::string> &agents, bool quiet) {
    std::string source = image_source_dir();
    std::vector<std::string> npm = agent_npm_packages(*context.registry, agents);
    for (const auto &pkg : npm)
        for (char c : pkg)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '/' || c == '-' ||
                  c == '_' || c == '.'))
                throw Error("agent npm package \"" + pkg + "\" has characters npm package names do not");
    std::vector<std::string> argv{runtime, "build", "--file", source + "/entrypoint/Dockerfile",
                                  "--tag", image, "--build-arg", "BASE_IMAGE=" + base_image,
                                  "--build-arg", "AGENT_NPM_PACKAGES=" + join(npm, " "),
                                  "--build-arg", "PLAN_SCHEMA=" + std::to_string(kPlanSchema)};
    if (quiet)
        argv.push_back("--quiet");
    argv.push_back(source);
    std::cerr << "rustyolo: building " << image << " from " << base_image << " with "
              << (npm.empty() ? "no npm agents" : join(npm)) << "\n";
    spdlog::debug("running: {}", shell_join(argv));
    // DOCKER_BUILDKIT=0 keeps the classic builder's step-by-step progress on every engine.
    ProcessOptions process;
    process.forward_signals = true;
    int status = run_foreground(argv, process);
    if (status != 0)
        throw Error("image build failed (" + runtime + " build exited with " + std::to_string(status) +
                    "); the output above names the step");
    std::cerr << "rustyolo: built " << image << "\n";
    return 0;
}

}  // namespace

int list_plugins(Context &context) {
    for (const auto &p : context.registry->plugins()) {
        std::cout << p->name() << " " << p->version() << "  (ABI " << p->abi_major() << "." << p->abi_minor()
                  << ", " << (p->builtin() ? "built-in" : "third-party") << ")\n"
                  << "  " << p->description() << "\n"
                  << "  file:  " << p->path() << "\n"
                  << "  hooks: " << join(p->hooks()) << "\n";
        if (p->agent())
            std::cout << "  agents: " << join(p->call_names("agent.names", p->agent()->names)) << "\n";
        if (p->runtime())
            std::cout << "  runtimes: " << join(p->call_names("runtime.names", p->runtime()->names)) << "\n";
    }
    return 0;
}

int trust_command(Context &context, const std::vector<std::string> &args) {
    CLI::App app("Trust the exact current content of a project's .rustyolo.toml, so that it may widen "
                 "the policy (mounts, env, image, more domains, higher limits...). Any later change "
                 "makes it untrusted again.",
                 "rustyolo trust");
    std::string file = ".rustyolo.toml";
    app.add_option("FILE", file, "The project config (default ./.rustyolo.toml)");
    int code = 0;
    if (!parse(app, args, code))
        return code;
    std::error_code ec;
    fs::path path = fs::canonical(file, ec);
    if (ec)
        throw UsageError("rustyolo trust " + file + ": " + ec.message());
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    // Parse first: trusting a file that does not even load would be pointless.
    ConfigLayer project = parse_config_text(content.str(), path.string(), Source::project_file);
    ConfigLayer base = default_layer();
    std::vector<ConfigLayer> layers{base};
    std::string user_path = user_config_path(context.getenv_fn);
    if (!user_path.empty() && fs::exists(user_path, ec))
        layers.push_back(load_config_file(user_path, Source::user_file));
    std::vector<std::string> changes = widening_changes(project, merge(layers));
    TrustStore store(state_dir(context.getenv_fn));
    store.trust(path.string(), content.str());
    std::cout << "Trusted " << path.string() << " (sha256 " << sha256_hex(content.str()) << ").\n";
    if (changes.empty())
        std::cout << "It does not widen the policy.\n";
    else {
        std::cout << "It widens the policy:\n";
        for (const auto &c : changes)
            std::cout << "  - " << c << "\n";
    }
    std::cout << "Any change to the file makes it untrusted again. Trust store: " << store.file() << "\n";
    return 0;
}

int image_command(Context &context, const std::vector<std::string> &args) {
    CLI::App app("Build the sandbox image: the entrypoint, the in-container plugins and the agents.",
                 "rustyolo image");
    app.require_subcommand(1);
    CLI::App *build = app.add_subcommand("build", "Build the image from the installed sources");
    std::string base_image = "debian:bookworm-slim";
    std::string tag = context.config.image;
    std::vector<std::string> agents;
    bool quiet = false;
    build->add_option("--base-image", base_image, "Debian bookworm base image (default debian:bookworm-slim)");
    build->add_option("--tag", tag, "Image tag (default: the configured image, rustyolo:latest)");
    build->add_option("--agent", agents, "Install only these agents (default: every loaded agent plugin)");
    build->add_flag("--quiet", quiet, "Less build output");
    int code = 0;
    if (!parse(app, args, code))
        return code;
    return build_image(context, context.config.runtime, tag, base_image, agents, quiet);
}

int update_command(Context &context, const std::vector<std::string> &args) {
    CLI::App app("Update rustyolo's components.", "rustyolo update");
    bool image = false, binary = false, yes = false;
    std::string base_image = "debian:bookworm-slim";
    app.add_flag("--image", image, "Rebuild the sandbox image (pulls a registry image instead when "
                                   "--image names one with a registry host)");
    app.add_flag("--binary", binary, "Explain how to upgrade the installed rustyolo");
    app.add_flag("--yes", yes, "Accepted for compatibility (nothing is asked)");
    app.add_option("--base-image", base_image, "Base image for the rebuild");
    int code = 0;
    if (!parse(app, args, code))
        return code;
    if (!image && !binary)
        image = binary = true;
    if (binary)
        std::cout << "rustyolo " << RUSTYOLO_VERSION
                  << " is installed from source; it never downloads or replaces itself.\n"
                     "To upgrade: update your checkout (git pull) and run scripts/install.sh again.\n";
    if (!image)
        return 0;
    const std::string &ref = context.config.image;
    std::string first = ref.substr(0, ref.find('/'));
    bool registry = ref.find('/') != std::string::npos &&
                    (first.find('.') != std::string::npos || first.find(':') != std::string::npos);
    if (registry) {
        int status = run_foreground({context.config.runtime, "pull", ref});
        if (status != 0)
            throw Error(context.config.runtime + " pull " + ref + " failed with " + std::to_string(status));
        check_image(context.config.runtime, ref);
        return 0;
    }
    return build_image(context, context.config.runtime, ref, base_image, {}, false);
}

}  // namespace rustyolo::cli
