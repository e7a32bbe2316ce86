#include "plugins/runtime-docker/image.hpp"

#include "plugins/runtime-docker/engine_api.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace rustyolo::docker {

namespace json = boost::json;

namespace {

struct Captured {
    int status = -1;
    std::string out, err;
};

// Runs argv (no shell), stdin from /dev/null, and returns its exit status and output.
Captured capture(const std::vector<std::string> &argv) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc) +
                                 (rc == ENOENT ? " (is it installed and on PATH?)" : ""));
    }
    Captured result;
    std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
    std::array<std::string *, 2> sinks{&result.out, &result.err};
    int open_fds = 2;
    char buffer[8192];
    while (open_fds > 0) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto &p : fds)
        if (p.fd >= 0)
            ::close(p.fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

json::object inspect_result(bool present, const std::map<std::string, std::string> &labels,
                            const std::string &reason) {
    json::object result{{"present", present}, {"plan_schema", nullptr}, {"agents", json::array{}}};
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
    const std::vector<std::string> npm = strings_of(
        packages && packages->is_object() ? packages->as_object().if_contains("npm") : nullptr, "packages.npm");
    std::string npm_list;
    for (const auto &package : npm) {
        if (!plain_npm_name(package))
            throw std::runtime_error("agent npm package \"" + package + "\" has characters npm package names do not");
        npm_list += (npm_list.empty() ? "" : " ") + package;
    }
    const json::value *schema = request.if_contains("plan_schema");
    if (!schema || !schema->is_int64())
        throw std::invalid_argument("image build request: plan_schema must be an integer");
    const json::value *agents = request.if_contains("agents");
    const std::string agents_value = agents && agents->is_array() ? agents_label(agents->as_array()) : "";

    std::vector<std::string> argv{runtime, "build", "--file", context + "/entrypoint/Dockerfile",
                                  "--tag", image, "--build-arg", "BASE_IMAGE=" + base,
                                  "--build-arg", "AGENT_NPM_PACKAGES=" + npm_list,
                                  "--build-arg", "PLAN_SCHEMA=" + std::to_string(schema->as_int64()),
                                  "--label", std::string(kAgentsLabel) + "=" + agents_value};
    const json::value *quiet = request.if_contains("quiet");
    if (quiet && quiet->is_bool() && quiet->as_bool())
        argv.push_back("--quiet");
    argv.push_back(context);
    return json::object{{"argv", json::value_from(argv)},
                        {"provide", json::object{{"sources", ""}, {"ca_cert", "extra-ca.crt"}}}};
}

}  // namespace rustyolo::docker
