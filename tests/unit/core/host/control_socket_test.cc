#include "core/host/control_socket.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace rustyolo {
namespace {

namespace json = boost::json;

struct TempRuntime {
    std::string dir;
    TempRuntime() {
        char pattern[] = "/tmp/rytest-control-XXXXXX";
        dir = ::mkdtemp(pattern);
    }
    ~TempRuntime() { std::filesystem::remove_all(dir); }
    GetEnv env() const {
        return [this](const char *name) -> const char * {
            return std::string(name) == "XDG_RUNTIME_DIR" ? dir.c_str() : nullptr;
        };
    }
};

TEST(ControlSocket, TheSocketIsPrivateAndOutsideEverySessionDirectory) {
    TempRuntime runtime;
    const std::string path = control_socket_path(runtime.env(), "0123456789ab");
    EXPECT_EQ(path, runtime.dir + "/rustyolo/control/0123456789ab.sock");
    EXPECT_NE(path.rfind(session_dir_path(runtime.env(), "0123456789ab") + "/", 0), 0u);
    ControlServer server(path, [](const control::Request &r, const ControlPeer &) {
        control::Response response;
        response.id = r.id;
        response.ok = true;
        return response;
    });
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(control_dir(runtime.env()).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(ControlSocket, ARequestGetsItsHandlersAnswerWithThePeersCredentials) {
    TempRuntime runtime;
    const std::string path = control_socket_path(runtime.env(), "aaaaaaaaaaaa");
    ControlServer server(path, [](const control::Request &r, const ControlPeer &peer) {
        control::Response response;
        response.ok = true;
        response.result = json::object{{"op", r.op}, {"uid", peer.uid}, {"pid", peer.pid}};
        return response;
    });
    control::Response response = control_call(path, control::Request{5, "hello", {}}, std::chrono::seconds(5));
    ASSERT_TRUE(response.ok) << response.error;
    EXPECT_EQ(response.id, 5u);
    EXPECT_EQ(response.result.at("op").as_string(), "hello");
    EXPECT_EQ(response.result.at("uid").as_int64(), static_cast<std::int64_t>(::getuid()));
    EXPECT_EQ(response.result.at("pid").as_int64(), static_cast<std::int64_t>(::getpid()));
}

TEST(ControlSocket, AHandlersUsageErrorIsAnInvalidRefusal) {
    TempRuntime runtime;
    const std::string path = control_socket_path(runtime.env(), "bbbbbbbbbbbb");
    ControlServer server(path, [](const control::Request &, const ControlPeer &) -> control::Response {
        throw UsageError("\"bad..name\" is not an allow entry");
    });
    control::Response response = control_call(path, control::Request{1, "allow", {}}, std::chrono::seconds(5));
    EXPECT_FALSE(response.ok);
    EXPECT_TRUE(response.invalid);
    EXPECT_NE(response.error.find("bad..name"), std::string::npos);
}

TEST(ControlSocket, RunningSessionsListsLiveSocketsAndRemovesDeadOnes) {
    TempRuntime runtime;
    const std::string live = control_socket_path(runtime.env(), "cccccccccccc");
    ControlServer server(live, [](const control::Request &r, const ControlPeer &) {
        control::Response response;
        response.ok = r.op == "hello";
        response.result = json::object{{"session", "cccccccccccc"}};
        return response;
    });
    const std::string dead = control_socket_path(runtime.env(), "dddddddddddd");
    { ControlServer gone(dead, [](const control::Request &, const ControlPeer &) { return control::Response{}; }); }
    // The dead CLI's socket file, as a SIGKILL leaves it: a bound socket nobody listens on.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, dead.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    ::close(fd);
    std::vector<json::object> sessions = running_sessions(runtime.env());
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].at("session").as_string(), "cccccccccccc");
    EXPECT_EQ(sessions[0].at("socket").as_string(), live);
    EXPECT_FALSE(std::filesystem::exists(dead));
}

TEST(ControlRelay, WithoutASessionConnectionARequestIsRefusedNotHung) {
    ControlRelay relay;
    control::Response response = relay.ask("allow", json::object{}, std::chrono::milliseconds(100));
    EXPECT_FALSE(response.ok);
    EXPECT_NE(response.error.find("not connected"), std::string::npos);
}

}  // namespace
}  // namespace rustyolo
