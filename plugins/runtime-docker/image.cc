#include "plugins/runtime-docker/image.hpp"

#include "plugins/runtime-docker/engine_api.hpp"

#include <rustyolo/sdk/process.hpp>
#include <rustyolo/sdk/text.hpp>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace rustyolo::docker {

namespace json = boost::json;

namespace {

struct Captured {
    int status = -1;
    std::string out, err;
};

// Runs argv (no shell; argv[0] looked up in PATH's absolute entries), stdin from /dev/null, and
// returns its exit status and output (at most 16 MiB of each; a client that hangs is killed).
Captured capture(const std::vector<std::string> &argv) {
    sdk::RunOptions options;
    options.argv = argv;
    options.search_path = true;
    options.capture_limit = std::size_t{16} << 20;
    options.timeout = std::chrono::minutes(2);
    sdk::RunResult run;
    try {
        run = sdk::run(options);
    } catch (const sdk::ProcessError &e) {
        throw std::runtime_error(e.what());
    }
    if (run.timed_out)
        throw std::runtime_error(argv[0] + " " + (argv.size() > 1 ? argv[1] : std::string()) +
                                 " did not answer within 2 minutes and was killed; is the engine running?");
    if (run.out_truncated)
        throw std::runtime_error(argv[0] + " wrote more than 16 MiB; its output was not used");
    return Captured{run.code(), std::move(run.out), std::move(run.err)};
}

json::object inspect_result(bool present, const std::map<std::string, std::string> &labels,
                            const std::string &reason) {
    json::object result{{"present", present}, {"plan_schema", nullptr}, {"agents", json::array{}}};
    if (auto it = labels.find(kBaseImageLabel); it != labels.end())
        result["base_image"] = it->second;
    if (!reason.empty())
        result["reason"] = reason;
    if (auto it = labels.find(kPlanSchemaLabel); it != labels.end())
        result["plan_schema"] = it->second;
    if (auto it = labels.find(kAgentsLabel); it != labels.end())
        result["agents"] = parse_agents_label(it->second);
    return result;
}

// The version an npm package spec pins: "pkg@1.2.3" -> "1.2.3", "@scope/pkg@2" -> "2", else "".
std::string pinned_version(const std::string &spec) {
    const std::size_t at = spec.rfind('@');
    return at == std::string::npos || at == 0 ? std::string() : spec.substr(at + 1);
}

bool plain_npm_name(const std::string &package) {
    if (package.empty())
        return false;
    for (char c : package)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '@' || c == '/' || c == '-' || c == '_' ||
              c == '.'))
            return false;
    return true;
}

// An agent name that may name a build stage and a directory: [a-z0-9][a-z0-9_-]*.
bool plain_agent_name(const std::string &name) {
    if (name.empty() || name.front() == '-' || name.front() == '_')
        return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}

std::vector<std::string> strings_of(const json::value *value, const std::string &what) {
    std::vector<std::string> out;
    if (!value || value->is_null())
        return out;
    if (!value->is_array())
        throw std::invalid_argument("image build request: " + what + " must be an array of strings");
    for (const auto &v : value->as_array()) {
        if (!v.is_string())
            throw std::invalid_argument("image build request: " + what + " must be an array of strings");
        out.emplace_back(v.as_string());
    }
    return out;
}

std::string string_field(const json::object &o, const char *key) {
    const json::value *v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string agents_label(const json::array &agents) {
    std::string label;
    for (const auto &agent : agents) {
        if (!agent.is_object())
            continue;
        const std::string name = string_field(agent.as_object(), "name");
        if (name.empty())
            continue;
        std::string version;
        for (const auto &package : strings_of(agent.as_object().if_contains("npm"), "agents[].npm"))
            if (version.empty())
                version = pinned_version(package);
        label += (label.empty() ? "" : ",") + name + (version.empty() ? "" : "=" + version);
    }
    return label;
}

json::array parse_agents_label(const std::string &value) {
    json::array agents;
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t end = value.find(',', start);
        if (end == std::string::npos)
            end = value.size();
        const std::string part = value.substr(start, end - start);
        const std::size_t eq = part.find('=');
        const std::string name = part.substr(0, eq);
        if (!name.empty())
            agents.push_back(json::object{
                {"name", name},
                {"version", eq == std::string::npos ? json::value(nullptr) : json::value(part.substr(eq + 1))}});
        start = end + 1;
    }
    return agents;
}

json::object inspect_image(const std::string &runtime, const std::string &image) {
    // The engine's API on its local socket answers in a few ms; the client is asked when it cannot.
    if (runtime == "docker")
        if (auto found = inspect_image_via_socket(docker_socket_path([](const char *n) { return std::getenv(n); }),
                                                  image))
            return inspect_result(found->exists, found->labels, found->exists ? "" : "no such image");
    const Captured inspect = capture({runtime, "image", "inspect", "--format", "{{ json .Config.Labels }}", image});
    if (inspect.status != 0)
        return inspect_result(false, {}, inspect.err.substr(0, inspect.err.find('\n')));
    std::map<std::string, std::string> labels;
    boost::system::error_code ec;
    const json::value parsed = json::parse(inspect.out, ec);
    if (!ec && parsed.is_object())
        for (const auto &[key, value] : parsed.as_object())
            if (value.is_string())
                labels.emplace(std::string(key), std::string(value.as_string()));
    return inspect_result(true, labels, "");
}

json::object build_command(const json::object &request) {
    const std::string runtime = string_field(request, "runtime").empty() ? "docker" : string_field(request, "runtime");
    const std::string image = string_field(request, "image");
    const std::string base = string_field(request, "base_image");
    const std::string context = string_field(request, "context_dir");
    if (image.empty() || base.empty() || context.empty() || context.front() != '/')
        throw std::invalid_argument("image build request: image, base_image and an absolute context_dir are required");
    const json::value *packages = request.if_contains("packages");
    const std::vector<std::string> debian = strings_of(
        packages && packages->is_object() ? packages->as_object().if_contains("debian") : nullptr,
        "packages.debian");
    std::string debian_list;
    for (const auto &package : debian) {
        if (!text::is_debian_package_name(package))
            throw std::runtime_error("Debian package \"" + package + "\" is not a Debian package name");
        debian_list += (debian_list.empty() ? "" : " ") + package;
    }
    const json::value *schema = request.if_contains("plan_schema");
    if (!schema || !schema->is_int64())
        throw std::invalid_argument("image build request: plan_schema must be an integer");
    const json::value *agents = request.if_contains("agents");
    const std::string agents_value = agents && agents->is_array() ? agents_label(agents->as_array()) : "";
    // One stage per agent, each from the shared base, and one layer per agent copied from it.
    std::string stages, layers;
    if (agents && agents->is_array())
        for (const auto &agent : agents->as_array()) {
            if (!agent.is_object())
                throw std::invalid_argument("image build request: agents must be objects");
            const std::string name = string_field(agent.as_object(), "name");
            if (!plain_agent_name(name))
                throw std::runtime_error("agent name \"" + name + "\" cannot name an image layer (a-z, 0-9, "
                                         "'-' and '_' only, starting with a letter or digit)");
            std::string npm_list;
            for (const auto &package : strings_of(agent.as_object().if_contains("npm"), "agents[].npm")) {
                if (!plain_npm_name(package) || package.front() == '-')
                    throw std::runtime_error("agent npm package \"" + package +
                                             "\" has characters npm package names do not");
                npm_list += " " + package;
            }
            if (npm_list.empty())
                continue;  // nothing to install (an agent that runs what the image has)
            stages += "FROM runtime AS agent-" + name + "\nCOPY entrypoint/install-agent.sh /tmp/\nRUN sh /tmp/install-agent.sh " +
                      name + npm_list + "\n";
            layers += "COPY --from=agent-" + name + " /opt/rustyolo/ /opt/rustyolo/\n";
        }

    std::vector<std::string> argv{runtime, "build", "--file", context + "/" + kGeneratedDockerfile,
                                  "--tag", image, "--build-arg", "BASE_IMAGE=" + base,
                                  "--build-arg", "EXTRA_PACKAGES=" + debian_list,
                                  "--build-arg", "PLAN_SCHEMA=" + std::to_string(schema->as_int64()),
                                  "--label", std::string(kAgentsLabel) + "=" + agents_value,
                                  "--label", std::string(kBaseImageLabel) + "=" + base,
                                  "--label", std::string(kPackagesLabel) + "=" + debian_list};
    const json::value *quiet = request.if_contains("quiet");
    if (quiet && quiet->is_bool() && quiet->as_bool())
        argv.push_back("--quiet");
    argv.push_back(context);
    return json::object{{"argv", json::value_from(argv)},
                        {"provide", json::object{{"sources", ""},
                                                 {"ca_cert", "extra-ca.crt"},
                                                 {"dockerfile", json::object{{"from", "entrypoint/Dockerfile"},
                                                                             {"to", kGeneratedDockerfile},
                                                                             {"replace", json::object{
                                                                                 {kAgentStagesMarker, stages},
                                                                                 {kAgentLayersMarker, layers}}}}}}}};
}

boost::json::value pull_command(const std::string &runtime, const std::string &image) {
    const std::string first = image.substr(0, image.find('/'));
    const bool registry = image.find('/') != std::string::npos &&
                          (first.find('.') != std::string::npos || first.find(':') != std::string::npos);
    if (!registry)
        return boost::json::object{{"pull", false}};
    return boost::json::object{{"pull", true}, {"argv", boost::json::array{runtime.c_str(), "pull", image.c_str()}}};
}

}  // namespace rustyolo::docker
