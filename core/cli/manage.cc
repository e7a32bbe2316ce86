// rustyolo plugins | trust | image build | update.
#include "core/cli/commands.hpp"

#include "core/config/config_env.hpp"
#include "core/config/config_toml.hpp"
#include "core/error.hpp"
#include <rustyolo/sdk/text.hpp>
#include <rustyolo/sdk/plan.hpp>
#include "core/plan/plan_builder.hpp"
#include "core/host/process.hpp"
#include "core/host/shell_quote.hpp"
#include "core/config/trust.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace rustyolo::cli {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

using text::join;


// Parses a management command's own options; returns false when CLI11 printed help or an error
// (the exit code is then in `code`).
bool parse(CLI::App &app, std::vector<std::string> args, int &code) {
    std::reverse(args.begin(), args.end());  // CLI11 takes the vector reversed
    try {
        app.parse(args);
        return true;
    } catch (const CLI::ParseError &e) {
        code = app.exit(e) == 0 ? 0 : 2;
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

// The folders of the source tree that the image's build stage compiles.
const std::vector<std::string> &image_source_parts() {
    static const std::vector<std::string> parts{"CMakeLists.txt", "sdk", "core", "plugins", "entrypoint"};
    return parts;
}

// The CA bundle to trust inside the image: --ca-cert, else the one this machine's Node.js or
// OpenSSL is told to use. Empty: the image's own CA certificates only.
std::string extra_ca_file(const Context &context, const std::string &flag) {
    if (!flag.empty())
        return flag;
    for (const char *name : {"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"})
        if (const char *value = context.getenv_fn(name); value && *value && fs::is_regular_file(value))
            return value;
    return "";
}

// A temporary build context: the sources the image needs and extra-ca.crt; removed afterwards.
class BuildContextDir {
public:
    BuildContextDir(const std::string &source, const std::string &ca_file) {
        char pattern[] = "/tmp/rustyolo-image-XXXXXX";
        if (!::mkdtemp(pattern))
            throw Error(std::string("cannot create a temporary build context: ") + std::strerror(errno));
        dir_ = pattern;
        for (const auto &part : image_source_parts()) {
            std::error_code ec;
            fs::copy(fs::path(source) / part, fs::path(dir_) / part,
                     fs::copy_options::recursive | fs::copy_options::skip_symlinks, ec);
            if (ec)
                throw Error("cannot copy " + source + "/" + part + " into the build context: " + ec.message());
        }
        std::error_code ec;
        if (ca_file.empty()) {
            std::ofstream(fs::path(dir_) / "extra-ca.crt").flush();
        } else if (!fs::copy_file(ca_file, fs::path(dir_) / "extra-ca.crt", ec) || ec) {
            throw Error("cannot read the CA bundle " + ca_file + ": " + ec.message() +
                        "; give a PEM file with --ca-cert");
        }
    }
    ~BuildContextDir() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    BuildContextDir(const BuildContextDir &) = delete;
    BuildContextDir &operator=(const BuildContextDir &) = delete;
    const std::string &path() const { return dir_; }

private:
    std::string dir_;
};

struct ImageBuild {
    std::string image;
    std::string base_image = "debian:bookworm-slim";
    std::vector<std::string> agents;
    std::string ca_cert;
    bool quiet = false;
};

int build_image(Context &context, const ImageBuild &build) {
    const std::string &runtime = context.config.runtime;
    std::vector<std::string> npm = agent_npm_packages(*context.registry, build.agents);
    for (const auto &pkg : npm)
        for (char c : pkg)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '/' || c == '-' ||
                  c == '_' || c == '.'))
                throw Error("agent npm package \"" + pkg + "\" has characters npm package names do not");
    std::string ca = extra_ca_file(context, build.ca_cert);
    BuildContextDir dir(image_source_dir(), ca);
    std::vector<std::string> argv{runtime, "build", "--file", dir.path() + "/entrypoint/Dockerfile",
                                  "--tag", build.image, "--build-arg", "BASE_IMAGE=" + build.base_image,
                                  "--build-arg", "AGENT_NPM_PACKAGES=" + join(npm, " "),
                                  "--build-arg", "PLAN_SCHEMA=" + std::to_string(kPlanSchema)};
    if (build.quiet)
        argv.push_back("--quiet");
    argv.push_back(dir.path());
    std::cerr << "rustyolo: building " << build.image << " from " << build.base_image << " with "
              << (npm.empty() ? "no npm agents" : join(npm))
              << (ca.empty() ? "" : ", trusting the CA bundle " + ca) << "\n";
    spdlog::debug("running: {}", shell_join(argv));
    ProcessOptions process;
    process.forward_signals = true;
    int status = run_foreground(argv, process);
    if (status != 0)
        throw Error("image build failed (" + runtime + " build exited with " + std::to_string(status) +
                    "); the output above names the step that failed");
    check_image(runtime, build.image);
    std::cerr << "rustyolo: built " << build.image << "\n";
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
    CLI::App *sub = app.add_subcommand("build", "Build the image from the installed sources");
    ImageBuild build;
    build.image = context.config.image;
    sub->add_option("--base-image", build.base_image, "Debian bookworm base image (default debian:bookworm-slim)");
    sub->add_option("--tag", build.image, "Image tag (default: the configured image, rustyolo:latest)");
    sub->add_option("--agent", build.agents, "Install only these agents (default: every loaded agent plugin)");
    sub->add_option("--ca-cert", build.ca_cert,
                    "Extra CA bundle (PEM) the image trusts, e.g. a TLS-inspecting proxy's; default: "
                    "$NODE_EXTRA_CA_CERTS or $SSL_CERT_FILE when set");
    sub->add_flag("--quiet", build.quiet, "Less build output");
    int code = 0;
    if (!parse(app, args, code))
        return code;
    return build_image(context, build);
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
    ImageBuild build;
    build.image = ref;
    build.base_image = base_image;
    return build_image(context, build);
}

}  // namespace rustyolo::cli
