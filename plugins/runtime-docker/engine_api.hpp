// A direct question to the Docker engine's API over its Unix socket, for what the CLI asks on
// every start (the image's labels): one HTTP/1.0 request on a local socket instead of starting the
// docker client. Anything unusual — DOCKER_HOST naming another
// transport, no socket, no permission, an unexpected answer — gives nullopt, and the caller asks
// the docker client instead, so the result never differs from `docker image inspect`.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace rustyolo::docker {

// getenv(3), or a stand-in for it in tests.
using GetEnv = std::function<const char *(const char *)>;

struct EngineImage {
    bool exists = false;
    std::map<std::string, std::string> labels;  // Config.Labels
};

// The engine's socket path from DOCKER_HOST ("unix:///path"; unset: /var/run/docker.sock), or ""
// when DOCKER_HOST names another transport, or a docker context other than "default" is chosen
// (DOCKER_CONTEXT, or "currentContext" in $DOCKER_CONFIG/config.json or ~/.docker/config.json).
std::string docker_socket_path(const GetEnv &getenv_fn);

// GET /images/<name>/json on the socket at `socket_path`. nullopt: ask the docker client instead.
std::optional<EngineImage> inspect_image_via_socket(const std::string &socket_path, const std::string &image,
                                                    int timeout_ms = 2000);

}  // namespace rustyolo::docker
