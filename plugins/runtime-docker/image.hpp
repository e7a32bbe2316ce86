// Sandbox images through the docker (or podman) CLI and the engine's API: what the engine knows of
// an image (its presence, its plan-schema label, the agents it was built with) and the command
// that builds one. The JSON shapes are those of rustyolo_runtime_hooks.image_inspect and
// image_build in plugin_abi.h.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace rustyolo::docker {

// The labels the image carries for rustyolo.
inline constexpr const char *kPlanSchemaLabel = "org.rustyolo.plan-schema";
inline constexpr const char *kAgentsLabel = "org.rustyolo.agents";
inline constexpr const char *kBaseImageLabel = "org.rustyolo.base-image";
inline constexpr const char *kPackagesLabel = "org.rustyolo.debian-packages";

// The image build: entrypoint/Dockerfile with the agents written in at its two marker lines
// (one stage and one layer per agent), as a file of the build context.
inline constexpr const char *kGeneratedDockerfile = "rustyolo.Dockerfile";
inline constexpr const char *kAgentStagesMarker = "# @rustyolo agent-stages";
inline constexpr const char *kAgentLayersMarker = "# @rustyolo agent-layers";

// The agents label's value: "name" or "name=version" per agent, comma-separated. The version is
// the one the agent's npm packages pin ("pkg@1.2.3"), else the agent has none.
std::string agents_label(const boost::json::array &agents);
// Its reverse: [{"name", "version": string|null}]; malformed parts are skipped.
boost::json::array parse_agents_label(const std::string &value);

// The image_inspect result for `image` of `runtime` (the program: docker or podman). Asks the
// engine's socket first (docker only), the CLI when that cannot answer. Throws std::runtime_error
// when the CLI cannot be run.
boost::json::object inspect_image(const std::string &runtime, const std::string &image);

// The image_pull result for `image` of `runtime`: {"pull": true, "argv": [runtime, "pull", image]}
// when the reference starts with a registry host (a first component with a '.' or a ':' before a
// '/', as the engine reads references), {"pull": false} for a local name.
boost::json::value pull_command(const std::string &runtime, const std::string &image);

// The image_build result for a request. Throws std::invalid_argument naming a bad value.
boost::json::object build_command(const boost::json::object &request);

}  // namespace rustyolo::docker
