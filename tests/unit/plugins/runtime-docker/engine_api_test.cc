#include "plugins/runtime-docker/engine_api.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

namespace rustyolo::docker {
namespace {

namespace fs = std::filesystem;

GetEnv env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char *name) -> const char * {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("rustyolo-engine-" + std::to_string(::getpid()));
    TempDir() { fs::remove_all(path); fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
};

TEST(EngineApi, SocketPathFollowsDockerHostAndContexts) {
    TempDir home;
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}})), "/var/run/docker.sock");
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}, {"DOCKER_HOST", "unix:///run/x.sock"}})),
              "/run/x.sock");
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}, {"DOCKER_HOST", "tcp://10.0.0.1:2375"}})), "");
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}, {"DOCKER_CONTEXT", "remote"}})), "");
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}, {"DOCKER_CONTEXT", "default"}})),
              "/var/run/docker.sock");
    fs::create_directories(home.path / ".docker");
    std::ofstream(home.path / ".docker" / "config.json") << R"({"currentContext": "remote"})";
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}})), "");
    std::ofstream(home.path / ".docker" / "config.json") << R"({"auths": {}})";
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}})), "/var/run/docker.sock");
    std::ofstream(home.path / ".docker" / "config.json") << "not json";
    EXPECT_EQ(docker_socket_path(env_of({{"HOME", home.path.string()}})), "");
}

// A one-shot HTTP/1.0 server on a Unix socket that answers `reply` and records the request.
class OneShotServer {
public:
    OneShotServer(const fs::path &path, std::string reply) : path_(path.string()) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd_, 1), 0);
        thread_ = std::thread([this, reply = std::move(reply)] {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0)
                return;
            char buffer[4096];
            ssize_t n = ::read(c, buffer, sizeof buffer);
            if (n > 0)
                request_.assign(buffer, static_cast<std::size_t>(n));
            [[maybe_unused]] ssize_t w = ::write(c, reply.data(), reply.size());
            ::close(c);
        });
    }
    ~OneShotServer() {
        ::shutdown(fd_, SHUT_RDWR);
        if (thread_.joinable())
            thread_.join();
        ::close(fd_);
    }
    std::string request() {
        if (thread_.joinable())
            thread_.join();
        return request_;
    }

private:
    std::string path_;
    int fd_ = -1;
    std::string request_;
    std::thread thread_;
};

TEST(EngineApi, ReadsTheImagesLabels) {
    TempDir dir;
    OneShotServer server(dir.path / "d.sock",
                         "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
                         R"({"Id":"sha256:x","Config":{"Labels":{"org.rustyolo.plan-schema":"1","other":"y"}}})");
    auto found = inspect_image_via_socket((dir.path / "d.sock").string(), "rustyolo:latest");
    ASSERT_TRUE(found);
    EXPECT_TRUE(found->exists);
    EXPECT_EQ(found->labels.at("org.rustyolo.plan-schema"), "1");
    EXPECT_EQ(server.request().rfind("GET /images/rustyolo:latest/json HTTP/1.0\r\n", 0), 0u);
}

TEST(EngineApi, NotFoundIsAMissingImage) {
    TempDir dir;
    OneShotServer server(dir.path / "d.sock", "HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"No such image\"}");
    auto found = inspect_image_via_socket((dir.path / "d.sock").string(), "nosuch:tag");
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->exists);
}

TEST(EngineApi, AnythingUnusualLeavesItToTheClient) {
    TempDir dir;
    EXPECT_FALSE(inspect_image_via_socket((dir.path / "none.sock").string(), "rustyolo:latest"));  // no socket
    EXPECT_FALSE(inspect_image_via_socket("", "rustyolo:latest"));
    EXPECT_FALSE(inspect_image_via_socket((dir.path / "none.sock").string(), "bad name"));
    {
        OneShotServer server(dir.path / "a.sock", "HTTP/1.0 500 Internal Server Error\r\n\r\n{}");
        EXPECT_FALSE(inspect_image_via_socket((dir.path / "a.sock").string(), "rustyolo:latest"));
    }
    {
        OneShotServer server(dir.path / "b.sock", "HTTP/1.0 200 OK\r\n\r\nnot json");
        EXPECT_FALSE(inspect_image_via_socket((dir.path / "b.sock").string(), "rustyolo:latest"));
    }
    {
        OneShotServer server(dir.path / "c.sock", "garbage");
        EXPECT_FALSE(inspect_image_via_socket((dir.path / "c.sock").string(), "rustyolo:latest"));
    }
}

}  // namespace
}  // namespace rustyolo::docker
