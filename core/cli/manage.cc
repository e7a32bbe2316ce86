// rustyolo plugins | trust | image build | update.
#include "core/cli/commands.hpp"

#include "core/config/config_env.hpp"
#include "core/config/config_toml.hpp"
#include "core/error.hpp"
#include "core/cli/live_save.hpp"
#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/text.hpp>
#include <rustyolo/sdk/plan.hpp>
#include "core/plan/plan_builder.hpp"
#include "core/host/process.hpp"
#include "core/host/shell_quote.hpp"
#include "core/config/project_file.hpp"
#include "core/config/trust.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <optional>
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

// Whether an npm package spec pins one exact version: "pkg@1.2.3", "@scope/pkg@1.2.3-beta.1".
bool pinned_npm_spec(const std::string &spec) {
    const std::size_t at = spec.rfind('@');
    if (at == std::string::npos || at == 0)
        return false;
    const std::string version = spec.substr(at + 1);
    int dots = 0;
    for (std::size_t i = 0; i < version.size() && version[i] != '-' && version[i] != '+'; ++i) {
        if (version[i] == '.')
            ++dots;
        else if (!std::isdigit(static_cast<unsigned char>(version[i])))
            return false;
    }
    return dots == 2 && std::isdigit(static_cast<unsigned char>(version.front()));
}

// (see commands.hpp)
// The agents to install and their npm packages, from every loaded agent plugin's image recipe
// ("install": {"npm": [...]}): [{"name", "npm": [...]}], only those in `only` when it is not empty.
}  // namespace

json::array agent_recipes(const PluginRegistry &registry, const std::vector<std::string> &only) {
    json::array agents;
    for (const auto &p : registry.plugins()) {
        if (!p->agent())
            continue;
        for (const auto &agent : p->call_names("agent.names", p->agent()->names)) {
            if (!only.empty() && std::find(only.begin(), only.end(), agent) == only.end())
                continue;
            json::array packages;
            for (const std::string &pkg : agent_manifest_of(*p, agent).install_npm) {
                if (!pinned_npm_spec(pkg))
                    spdlog::warn("agent {}: the npm package {} is not pinned to an exact version, so each image "
                                 "build may install a different one (plugin {})",
                                 agent, text::quoted(pkg), p->name());
                packages.emplace_back(pkg);
            }
            agents.push_back(json::object{{"name", agent}, {"npm", std::move(packages)}});
        }
    }
    for (const auto &name : only)
        if (std::none_of(agents.begin(), agents.end(), [&](const json::value &a) { return a.at("name").as_string() == name; }))
            throw UsageError("--agent " + text::quoted(name) + ": no loaded agent plugin serves this agent; "
                             "`rustyolo plugins` lists the agents");
    return agents;
}

namespace {

// Every npm package of `agents`, sorted, each once.
std::vector<std::string> npm_packages(const json::array &agents) {
    std::set<std::string> packages;
    for (const auto &agent : agents)
        for (const auto &pkg : agent.at("npm").as_array())
            packages.insert(std::string(pkg.as_string()));
    return {packages.begin(), packages.end()};
}

// A path the runtime plugin names inside the build context: relative, without "..".
fs::path inside_context(const std::string &context, const std::string &relative, const std::string &plugin) {
    const fs::path path(relative);
    if (path.is_absolute() || std::find(path.begin(), path.end(), "..") != path.end())
        throw Error("plugin " + plugin + ": runtime.image_build names " + text::quoted(relative) +
                    " for the build context, which is not a path inside it");
    return relative.empty() ? fs::path(context) : fs::path(context) / path;
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

// A temporary build context, removed afterwards. The runtime plugin says what goes where in it.
class BuildContextDir {
public:
    BuildContextDir() {
        char pattern[] = "/tmp/rustyolo-image-XXXXXX";
        if (!::mkdtemp(pattern))
            throw Error(std::string("cannot create a temporary build context: ") + std::strerror(errno));
        dir_ = pattern;
    }
    ~BuildContextDir() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    BuildContextDir(const BuildContextDir &) = delete;
    BuildContextDir &operator=(const BuildContextDir &) = delete;
    const std::string &path() const { return dir_; }

    // Copies the image sources (image_source_parts) from `source` into `target`.
    static void copy_sources(const std::string &source, const fs::path &target) {
        std::error_code ec;
        fs::create_directories(target, ec);
        for (const auto &part : image_source_parts()) {
            fs::copy(fs::path(source) / part, target / part,
                     fs::copy_options::recursive | fs::copy_options::skip_symlinks, ec);
            if (ec)
                throw Error("cannot copy " + source + "/" + part + " into the build context: " + ec.message());
        }
    }
    // Writes `to` from `from` (both inside the context), each line that equals a key of `replace`
    // replaced by its value; every key must be a line of `from`, once.
    static void write_dockerfile(const fs::path &from, const fs::path &to,
                                 const std::map<std::string, std::string> &replace) {
        std::ifstream in(from);
        if (!in)
            throw Error("cannot read " + from.string() + " in the build context");
        std::map<std::string, int> seen;
        std::string out, line;
        while (std::getline(in, line)) {
            if (auto it = replace.find(line); it != replace.end()) {
                ++seen[line];
                out += it->second;
            } else {
                out += line + "\n";
            }
        }
        for (const auto &[marker, text] : replace)
            if (seen[marker] != 1)
                throw Error(from.string() + " has the line " + text::quoted(marker) + " " +
                            std::to_string(seen[marker]) + " times, not once; the image sources and the "
                            "runtime plugin do not match (reinstall rustyolo)");
        std::ofstream file(to);
        file << out;
        if (!file.flush())
            throw Error("cannot write " + to.string() + " in the build context");
    }
    // Writes the CA bundle `ca_file` to `target` (an empty file when there is none).
    static void copy_ca(const std::string &ca_file, const fs::path &target) {
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ca_file.empty()) {
            std::ofstream(target).flush();
        } else if (!fs::copy_file(ca_file, target, ec) || ec) {
            throw Error("cannot read the CA bundle " + ca_file + ": " + ec.message() +
                        "; give a PEM file with --ca-cert");
        }
    }

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

// The argv of a runtime plugin's answer: a non-empty array of strings, read strictly.
std::vector<std::string> answer_argv(const sdk::JsonReader &answer) {
    if (!answer.find("argv") || !answer.need("argv").is_array())
        answer.fail_at("argv", "expected the command as an array of strings");
    std::vector<std::string> argv = answer.strings("argv");
    if (argv.empty() || argv.front().empty())
        answer.fail_at("argv", "expected a non-empty command");
    return argv;
}

int build_image(Context &context, const ImageBuild &build) {
    const std::string &runtime = context.config.runtime;
    const LoadedPlugin &plugin = find_runtime_plugin(*context.registry, runtime);
    if (!plugin.runtime()->image_build)
        throw Error("the runtime plugin " + plugin.name() + " (" + plugin.path() + ") cannot build images (it "
                    "was built for plugin ABI " + std::to_string(plugin.abi_major()) + "." +
                    std::to_string(plugin.abi_minor()) + "); build the image with the engine's own tools or "
                    "update the plugin");
    const json::array agents = agent_recipes(*context.registry, build.agents);
    const std::vector<std::string> npm = npm_packages(agents);
    const std::string ca = extra_ca_file(context, build.ca_cert);
    const std::string sources = image_source_dir();
    BuildContextDir dir;
    json::object request{{"runtime", runtime},
                         {"image", build.image},
                         {"base_image", build.base_image},
                         {"agents", agents},
                         {"packages", json::object{{"npm", json::value_from(npm)},
                                                   {"debian", json::value_from(context.config.image_packages)}}},
                         {"ca_cert", !ca.empty()},
                         {"plan_schema", kPlanSchema},
                         {"context_dir", dir.path()},
                         {"quiet", build.quiet}};
    json::value answer;
    try {
        answer = plugin.call("runtime.image_build", plugin.runtime()->image_build, request);
    } catch (const PluginCallError &e) {
        throw Error(e.reason);
    }
    std::vector<std::string> argv;
    std::optional<std::string> sources_at, ca_at, dockerfile_from, dockerfile_to;
    std::map<std::string, std::string> dockerfile_replace;
    try {
        const sdk::JsonReader result(answer, "plugin \"" + plugin.name() + "\" runtime.image_build result");
        argv = answer_argv(result);
        if (result.find("provide")) {
            const sdk::JsonReader provide = result.child("provide");
            sources_at = provide.optional_str("sources");
            ca_at = provide.optional_str("ca_cert");
            if (provide.find("dockerfile")) {
                const sdk::JsonReader dockerfile = provide.child("dockerfile");
                dockerfile_from = dockerfile.str("from");
                dockerfile_to = dockerfile.str("to");
                if (dockerfile.find("replace") && dockerfile.need("replace").is_object())
                    for (const auto &[marker, text] : dockerfile.need("replace").as_object())
                        if (text.is_string())
                            dockerfile_replace[std::string(marker)] = std::string(text.as_string());
            }
        }
    } catch (const sdk::JsonError &e) {
        throw Error(std::string(e.what()) + " (plugin file " + plugin.path() + ")");
    }
    if (sources_at)
        BuildContextDir::copy_sources(sources, inside_context(dir.path(), *sources_at, plugin.name()));
    if (dockerfile_from && dockerfile_to)
        BuildContextDir::write_dockerfile(inside_context(dir.path(), *dockerfile_from, plugin.name()),
                                          inside_context(dir.path(), *dockerfile_to, plugin.name()),
                                          dockerfile_replace);
    if (ca_at)
        BuildContextDir::copy_ca(ca, inside_context(dir.path(), *ca_at, plugin.name()));
    else if (!ca.empty())
        throw Error("plugin " + plugin.name() + ": runtime.image_build has no place for the CA bundle " + ca +
                    " the image should trust");

    std::cerr << "rustyolo: building " << build.image << " from " << build.base_image << " with "
              << (npm.empty() ? "no npm agents" : join(npm))
              << (context.config.image_packages.empty() ? ""
                                                         : " and the Debian packages " + join(context.config.image_packages))
              << (ca.empty() ? "" : ", trusting the CA bundle " + ca) << "\n";
    spdlog::debug("running: {}", shell_join(argv));
    ProcessOptions process;
    process.forward_signals = true;
    int status = run_foreground(argv, process);
    if (status != 0)
        throw Error("image build failed (" + argv[0] + (argv.size() > 1 ? " " + argv[1] : std::string()) +
                    " exited with " + std::to_string(status) + "); the output above names the step that failed");
    check_image(*context.registry, runtime, build.image);
    std::cerr << "rustyolo: built " << build.image << "\n";
    return 0;
}

}  // namespace

namespace {

// One agent's manifest as `rustyolo plugins --json` prints it (the drift scan reads it).
json::object manifest_json(const AgentProfile &a) {
    auto pairs = [](const std::vector<std::pair<std::string, std::string>> &list, const char *key) {
        json::array out;
        for (const auto &[value, reason] : list)
            out.push_back(json::object{{key, value}, {"reason", reason}});
        return out;
    };
    json::array persist;
    for (const auto &[name, target] : a.persist)
        persist.push_back(json::object{{"name", name}, {"target", target}});
    return json::object{{"agent", a.agent},
                        {"plugin", a.plugin},
                        {"version", a.version},
                        {"executable", a.argv.front()},
                        {"egress", pairs(a.egress, "entry")},
                        {"decline", pairs(a.decline, "host")},
                        {"vendor_domains", json::value_from(a.vendor_domains)},
                        {"env_passthrough", json::value_from(a.env_passthrough)},
                        {"persist", std::move(persist)},
                        {"protect", pairs(a.protect, "path")}};
}

void print_agent(const AgentProfile &a) {
    std::cout << "  agent " << a.agent << (a.version.empty() ? "" : " " + a.version) << ": runs " << a.argv.front()
              << "\n";
    for (const auto &[entry, reason] : a.egress)
        std::cout << "    egress  " << entry << "  (" << reason << ")\n";
    if (!a.decline.empty())
        std::cout << "    declined: " << a.decline.size() << " hosts its files name (`rustyolo plugins --json` lists "
                     "them with reasons)\n";
    std::vector<std::string> protect;
    for (const auto &[path, reason] : a.protect)
        protect.push_back(path);
    if (!protect.empty())
        std::cout << "    read-only in every session: " << join(protect) << "\n";
}

}  // namespace

int list_plugins(Context &context, const std::vector<std::string> &args) {
    CLI::App app("List the loaded plugins, with each agent's version, egress entries (with reasons) and "
                 "protected paths.",
                 "rustyolo plugins");
    bool as_json = false;
    app.add_flag("--json", as_json, "Print the agents' manifests as JSON (what the drift scan reads)");
    int code = 0;
    if (!parse(app, args, code))
        return code;
    json::array agents;
    for (const auto &p : context.registry->plugins()) {
        std::vector<AgentProfile> profiles;
        if (p->agent())
            for (const auto &name : p->call_names("agent.names", p->agent()->names))
                profiles.push_back(agent_manifest_of(*p, name));
        if (as_json) {
            for (const auto &a : profiles)
                agents.push_back(manifest_json(a));
            continue;
        }
        std::cout << p->name() << " " << p->version() << "  (ABI " << p->abi_major() << "." << p->abi_minor()
                  << ", " << (p->builtin() ? "built-in" : "third-party") << ")\n"
                  << "  " << p->description() << "\n"
                  << "  file:  " << p->path() << "\n"
                  << "  hooks: " << join(p->hooks()) << "\n";
        for (const auto &a : profiles)
            print_agent(a);
        if (p->runtime())
            std::cout << "  runtimes: " << join(p->call_names("runtime.names", p->runtime()->names)) << "\n";
    }
    if (as_json)
        std::cout << json::serialize(json::object{{"agents", std::move(agents)}}) << "\n";
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
    // The file's own place, its directory's links resolved: the place the session reads. A link
    // as the file itself is refused by read_project_config, as at the start of a session.
    fs::path given = fs::absolute(file, ec);
    fs::path dir = ec ? fs::path() : fs::canonical(given.parent_path(), ec);
    if (ec)
        throw UsageError("rustyolo trust " + file + ": " + ec.message());
    fs::path path = dir / given.filename();
    std::optional<std::string> text = read_project_config(path.string());
    if (!text)
        throw UsageError("rustyolo trust " + file + ": no such file");
    // Parse first: trusting a file that does not even load would be pointless.
    const std::vector<std::string> changes = project_file_widening(context, path.string(), *text);
    TrustStore store(state_dir(context.getenv_fn));
    store.trust(path.string(), *text);
    std::cout << "Trusted " << path.string() << " (sha256 " << sha256_hex(*text) << ").\n";
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
    // A reference the runtime pulls from a registry is pulled; a local name is built.
    const LoadedPlugin &plugin = find_runtime_plugin(*context.registry, context.config.runtime);
    if (plugin.runtime()->image_pull) {
        std::vector<std::string> pull;
        try {
            const json::value answer = plugin.call("runtime.image_pull", plugin.runtime()->image_pull,
                                                   json::object{{"runtime", context.config.runtime}, {"image", ref}});
            const sdk::JsonReader result(answer, "plugin \"" + plugin.name() + "\" runtime.image_pull result");
            if (result.boolean("pull"))
                pull = answer_argv(result);
        } catch (const PluginCallError &e) {
            throw Error(e.reason);
        } catch (const sdk::JsonError &e) {
            throw Error(std::string(e.what()) + " (plugin file " + plugin.path() + ")");
        }
        if (!pull.empty()) {
            spdlog::debug("running: {}", shell_join(pull));
            ProcessOptions process;
            process.forward_signals = true;
            const int status = run_foreground(pull, process);
            if (status != 0)
                throw Error("pulling " + ref + " failed (" + shell_join(pull) + " exited with " +
                            std::to_string(status) + "); the output above says why");
            check_image(*context.registry, context.config.runtime, ref);
            return 0;
        }
    }
    ImageBuild build;
    build.image = ref;
    build.base_image = base_image;
    return build_image(context, build);
}

}  // namespace rustyolo::cli
