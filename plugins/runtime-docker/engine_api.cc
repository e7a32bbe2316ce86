#include "plugins/runtime-docker/engine_api.hpp"

#include <rustyolo/sdk/send_all.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <boost/json.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include <pwd.h>

namespace rustyolo::docker {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxResponse = 4 * 1024 * 1024;

// Image references are [A-Za-z0-9._:/@-]; anything else goes to the docker client.
bool plain_reference(const std::string &image) {
    if (image.empty() || image.size() > 512)
        return false;
    for (char c : image)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '/' ||
              c == '@' || c == '-'))
            return false;
    return true;
}

// The user's home directory: $HOME when absolute, else the passwd entry; "" when neither.
std::string home_dir(const GetEnv &getenv_fn) {
    if (const char *home = getenv_fn("HOME"); home && *home == '/')
        return home;
    if (const passwd *pw = ::getpwuid(::getuid()); pw && pw->pw_dir)
        return pw->pw_dir;
    return {};
}

}  // namespace

// The docker client's chosen context in its config file ("" when none, or unreadable as JSON: then
// "?" so that the client is asked).
std::string configured_context(const GetEnv &getenv_fn) {
    const char *dir = getenv_fn("DOCKER_CONFIG");
    std::string path;
    if (dir && *dir) {
        path = std::string(dir) + "/config.json";
    } else {
        const std::string home = home_dir(getenv_fn);
        if (home.empty())
            return "?";
        path = home + "/.docker/config.json";
    }
    std::ifstream in(path);
    if (!in)
        return {};
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value config = json::parse(text.str(), ec);
    if (ec || !config.is_object())
        return "?";
    const json::value *context = config.as_object().if_contains("currentContext");
    return context && context->is_string() ? std::string(context->as_string()) : std::string();
}

std::string docker_socket_path(const GetEnv &getenv_fn) {
    const char *context = getenv_fn("DOCKER_CONTEXT");
    if (context && *context && std::string_view(context) != "default")
        return {};
    if (const std::string chosen = configured_context(getenv_fn); !chosen.empty() && chosen != "default")
        return {};
    const char *host = getenv_fn("DOCKER_HOST");
    if (!host || !*host)
        return "/var/run/docker.sock";
    const std::string value(host);
    const std::string prefix = "unix://";
    if (value.rfind(prefix, 0) == 0 && value.size() > prefix.size() && value[prefix.size()] == '/')
        return value.substr(prefix.size());
    return {};
}

std::optional<EngineImage> inspect_image_via_socket(const std::string &socket_path, const std::string &image,
                                                    int timeout_ms) {
    if (socket_path.empty() || !plain_reference(image))
        return std::nullopt;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path)
        return std::nullopt;
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        return std::nullopt;
    if (!send_all(fd.get(), "GET /images/" + image + "/json HTTP/1.0\r\nHost: docker\r\n\r\n"))
        return std::nullopt;

    std::string response;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0)
            return std::nullopt;
        pollfd p{fd.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return std::nullopt;
        char buffer[65536];
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return std::nullopt;
        if (n == 0)
            break;  // HTTP/1.0: the engine closes after the body
        response.append(buffer, static_cast<std::size_t>(n));
        if (response.size() > kMaxResponse)
            return std::nullopt;
    }

    const std::size_t header_end = response.find("\r\n\r\n");
    if (header_end == std::string::npos || response.rfind("HTTP/1.", 0) != 0)
        return std::nullopt;
    const std::size_t space = response.find(' ');
    const std::string status = response.substr(space + 1, 3);
    if (status == "404")
        return EngineImage{};
    if (status != "200")
        return std::nullopt;
    if (response.find("\r\nTransfer-Encoding: chunked", 0) < header_end)
        return std::nullopt;  // not expected for HTTP/1.0; leave it to the client
    boost::system::error_code ec;
    json::value body = json::parse(std::string_view(response).substr(header_end + 4), ec);
    if (ec || !body.is_object())
        return std::nullopt;
    EngineImage image_info;
    image_info.exists = true;
    const json::value *config = body.as_object().if_contains("Config");
    const json::value *labels = config && config->is_object() ? config->as_object().if_contains("Labels") : nullptr;
    if (labels && labels->is_object())
        for (const auto &[key, value] : labels->as_object())
            if (value.is_string())
                image_info.labels.emplace(std::string(key), std::string(value.as_string()));
    return image_info;
}

}  // namespace rustyolo::docker
