// The `runtime-docker` plugin: turns a Plan into a `docker run` (or `podman run`) command, tells
// what the engine knows of a sandbox image, and gives the command that builds one.
#include "plugins/runtime-docker/docker_argv.hpp"
#include "plugins/runtime-docker/image.hpp"
#include "plugins/runtime-docker/resolv_files.hpp"

#include <rustyolo/sdk/plugin.hpp>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

class DockerRuntime : public sdk::Plugin, public sdk::RuntimeHook {
public:
    using sdk::Plugin::Plugin;

    std::vector<std::string> runtime_names() override { return {"docker", "podman"}; }

    json::value command(const json::object &request) override {
        rustyolo::docker::LaunchRequest launch;
        launch.runtime = sdk::string_or(request, "runtime", "docker");
        if (launch.runtime != "docker" && launch.runtime != "podman")
            throw sdk::Unsupported("runtime " + launch.runtime + " is not served by runtime-docker");
        launch.plan = rustyolo::plan_from_json(sdk::require(request, "plan"));
        launch.plan_file = sdk::string_or(request, "plan_file", "");
        launch.session_dir = sdk::string_or(request, "runtime_dir", "");
        launch.interactive = request.contains("interactive") && request.at("interactive").is_bool() &&
                             request.at("interactive").as_bool();
        if (launch.plan_file.empty())
            throw sdk::InvalidInput("runtime request: plan_file is required");
        try {
            // A --dry-run (no lifeline) reuses one runtime dir: its profile file is rewritten.
            launch.engine_profile_file =
                rustyolo::docker::write_engine_profile(launch.plan, launch.session_dir, !launch.plan.lifeline);
            const auto resolv =
                rustyolo::docker::write_resolv_files(launch.plan, launch.session_dir, !launch.plan.lifeline);
            launch.resolv_conf_file = resolv.sandbox;
            launch.engine_resolv_conf_file = resolv.engine;
            return json::object{{"argv", json::value_from(rustyolo::docker::run_argv(launch))},
                                {"name", rustyolo::docker::container_name(launch.plan)}};
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
    }

    json::value image_inspect(const json::object &request) override {
        const std::string runtime = served(request);
        const json::value &image = sdk::require(request, "image");
        if (!image.is_string() || image.as_string().empty())
            throw sdk::InvalidInput("image inspect request: image must be a non-empty string");
        return rustyolo::docker::inspect_image(runtime, std::string(image.as_string()));
    }

    json::value image_pull(const json::object &request) override {
        const std::string runtime = served(request);
        const json::value &image = sdk::require(request, "image");
        if (!image.is_string() || image.as_string().empty())
            throw sdk::InvalidInput("image pull request: image must be a non-empty string");
        return rustyolo::docker::pull_command(runtime, std::string(image.as_string()));
    }

    json::value image_build(const json::object &request) override {
        served(request);
        try {
            return rustyolo::docker::build_command(request);
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
    }

private:
    // The request's runtime, when this plugin serves it.
    static std::string served(const json::object &request) {
        const std::string runtime = sdk::string_or(request, "runtime", "docker");
        if (runtime != "docker" && runtime != "podman")
            throw sdk::Unsupported("runtime " + runtime + " is not served by runtime-docker");
        return runtime;
    }
};

}  // namespace

RUSTYOLO_PLUGIN(DockerRuntime, "runtime-docker", "0.1.0",
                "Runs a Plan with docker (or podman) run: capabilities dropped, no-new-privileges, "
                "limits, single-token mounts")
