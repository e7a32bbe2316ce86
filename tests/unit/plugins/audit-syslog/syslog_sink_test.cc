// The audit syslog sink over a real Unix datagram socket: a receiver bound by the test, then a real
// rsyslogd started by the test, both reached through the built plugin loaded by PluginRegistry.
#include "plugins/audit-syslog/syslog_sink.hpp"

#include "core/loader/plugin_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace rustyolo::audit_syslog {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

json::object record(int seq, std::string verdict = "block") {
    return json::object{{"schema", 1},
                        {"time", "2026-11-28T08:10:18.123Z"},
                        {"session", "0a1b2c3d4e5f"},
                        {"seq", seq},
                        {"layer", "dns"},
                        {"verdict", verdict},
                        {"event", "query"},
                        {"details", json::object{{"name", "x]\"y\\.evil.test"}, {"qtype", "TXT"}}}};
}

// A temporary directory; removed with everything in it.
class TempDir {
public:
    TempDir() {
        path_ = fs::temp_directory_path() / ("rustyolo-syslog-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(path_);
        fs::create_directory(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    std::string operator/(const std::string &name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

// A bound datagram socket that plays the syslog daemon.
class Receiver {
public:
    explicit Receiver(std::string path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&address), sizeof address), 0) << std::strerror(errno);
    }
    ~Receiver() { stop(); }
    void stop() {
        if (fd_ >= 0) {
            ::close(fd_);
            ::unlink(path_.c_str());
            fd_ = -1;
        }
    }
    std::string receive() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1)
            return "(nothing arrived)";
        char buffer[65536];
        const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
        return got < 0 ? "(recv failed)" : std::string(buffer, static_cast<std::size_t>(got));
    }

private:
    std::string path_;
    int fd_ = -1;
};

// spdlog's output while the test runs (the host logs what plugins report through it).
class CapturedLog {
public:
    CapturedLog() : previous_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    }
    ~CapturedLog() { spdlog::set_default_logger(previous_); }
    std::string text() const { return stream_.str(); }

private:
    std::ostringstream stream_;
    std::shared_ptr<spdlog::logger> previous_;
};

const LoadedPlugin &load(PluginRegistry &registry) {
    const LoadedPlugin &plugin = registry.load(std::string(RUSTYOLO_TEST_PLUGIN_DIR) + "/audit-syslog.so", true);
    EXPECT_EQ(plugin.name(), "audit-syslog");
    EXPECT_NE(plugin.audit(), nullptr);
    return plugin;
}

json::value open_session(const LoadedPlugin &plugin, const std::string &socket) {
    return plugin.call("audit.open", plugin.audit()->open,
                       json::object{{"session", "0a1b2c3d4e5f"}, {"agent", "claude"}, {"level", "basic"},
                                    {"started", "2026-11-28T08:10:18.123Z"}, {"directory", "/unused"},
                                    {"syslog_socket", socket}});
}

void close_session(const LoadedPlugin &plugin) {
    plugin.call("audit.close", plugin.audit()->close, json::object{{"exit_code", 0}, {"counts", json::object{}}});
}

TEST(SyslogSink, EachRecordIsOneRfc5424Datagram) {
    TempDir dir;
    Receiver daemon(dir / "log.sock");
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = load(registry);
    EXPECT_EQ(open_session(plugin, dir / "log.sock").at("location").as_string(), "syslog (" + (dir / "log.sock") + ")");
    plugin.call("audit.event", plugin.audit()->event, record(1));
    plugin.call("audit.event", plugin.audit()->event, record(2, "allow"));
    const std::string first = daemon.receive();
    const std::string second = daemon.receive();
    close_session(plugin);
    const std::string sd = R"([rustyolo@32473 session="0a1b2c3d4e5f" verdict="block" event="query"] )";
    EXPECT_EQ(first.rfind("<36>1 2026-11-28T08:10:18.123Z ", 0), 0u) << first;
    EXPECT_THAT(first, HasSubstr(" rustyolo " + std::to_string(::getpid()) + " dns " + sd + json::serialize(record(1))));
    EXPECT_EQ(second.rfind("<38>1 ", 0), 0u) << second;
}

TEST(SyslogSink, MissingSocketRefusesTheStartNamingThePath) {
    TempDir dir;
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = load(registry);
    try {
        open_session(plugin, dir / "nothing.sock");
        FAIL();
    } catch (const std::exception &e) {
        EXPECT_THAT(e.what(), HasSubstr(dir / "nothing.sock"));
        EXPECT_THAT(e.what(), HasSubstr("there is no socket at that path"));
        EXPECT_THAT(e.what(), HasSubstr("--audit-syslog-socket"));
    }
}

TEST(SyslogSink, DaemonGoneMidSessionIsCountedWarnedOnceAndReportedAtClose) {
    TempDir dir;
    CapturedLog log;
    auto daemon = std::make_unique<Receiver>(dir / "log.sock");
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = load(registry);
    open_session(plugin, dir / "log.sock");
    plugin.call("audit.event", plugin.audit()->event, record(1));
    EXPECT_THAT(daemon->receive(), HasSubstr("\"seq\":1"));
    daemon->stop();
    for (int seq = 2; seq <= 4; ++seq)
        EXPECT_NO_THROW(plugin.call("audit.event", plugin.audit()->event, record(seq)));
    const std::string during = log.text();
    close_session(plugin);
    const std::string all = log.text();
    // One warning while it happened, one count at the end.
    EXPECT_EQ(std::count(during.begin(), during.end(), '\n'), 1) << during;
    EXPECT_THAT(during, HasSubstr("cannot send audit records to " + (dir / "log.sock")));
    EXPECT_THAT(all, HasSubstr("3 of 4 audit records did not reach syslog at " + (dir / "log.sock")));
}

TEST(SyslogSink, DaemonRestartedWithANewSocketGetsTheNextRecords) {
    TempDir dir;
    CapturedLog log;
    auto daemon = std::make_unique<Receiver>(dir / "log.sock");
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = load(registry);
    open_session(plugin, dir / "log.sock");
    daemon->stop();
    daemon = std::make_unique<Receiver>(dir / "log.sock");
    plugin.call("audit.event", plugin.audit()->event, record(5));
    EXPECT_THAT(daemon->receive(), HasSubstr("\"seq\":5"));
    close_session(plugin);
    EXPECT_EQ(log.text(), "");
}

TEST(SyslogSink, StalledDaemonCostsOneTimeoutNotOnePerRecord) {
    TempDir dir;
    Receiver daemon(dir / "log.sock");  // bound, never read: its queue fills up
    std::vector<std::string> warnings;
    SyslogSink sink([&](const std::string &w) { warnings.push_back(w); }, std::chrono::milliseconds(200));
    sink.open(dir / "log.sock");
    const auto begin = std::chrono::steady_clock::now();
    for (int seq = 1; seq <= 3000; ++seq)
        sink.send(record(seq));
    const auto took = std::chrono::steady_clock::now() - begin;
    EXPECT_GT(sink.sent(), 0u);   // positive control: the first records went through
    EXPECT_GT(sink.failed(), 0u);
    EXPECT_EQ(sink.sent() + sink.failed(), 3000u);
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_EQ(warnings.size(), 1u);
    EXPECT_EQ(sink.close(), sink.failed());
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_THAT(warnings[1], HasSubstr(" of 3000 audit records did not reach syslog"));
}

// --- a real rsyslogd -----------------------------------------------------------------------------

class Rsyslogd {
public:
    explicit Rsyslogd(const TempDir &dir) : dir_(dir) {
        fs::create_directory(dir / "work");
        std::ofstream(dir / "rsyslog.conf")
            << "global(workDirectory=\"" << (dir / "work") << "\" maxMessageSize=\"64k\")\n"
            << "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
            << "input(type=\"imuxsock\" Socket=\"" << (dir / "log.sock")
            << "\" UseSpecialParser=\"off\" ParseHostname=\"on\" IgnoreTimestamp=\"off\")\n"
            << "*.* action(type=\"omfile\" file=\"" << (dir / "out.log")
            << "\" template=\"RSYSLOG_SyslogProtocol23Format\")\n";
        const std::string conf = dir / "rsyslog.conf", pidfile = dir / "rsyslogd.pid";
        pid_ = ::fork();
        if (pid_ == 0) {
            const char *argv[] = {"/usr/sbin/rsyslogd", "-n", "-f", conf.c_str(), "-i", pidfile.c_str(), nullptr};
            ::execv(argv[0], const_cast<char *const *>(argv));
            ::_exit(127);
        }
    }
    ~Rsyslogd() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    // Waits until the daemon listens (its socket exists).
    bool ready() const {
        for (int i = 0; i < 100; ++i) {
            if (fs::exists(dir_ / "log.sock"))
                return true;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    // The output file once it has `lines` lines (or after 5 s).
    std::vector<std::string> lines(std::size_t count) const {
        std::vector<std::string> out;
        for (int i = 0; i < 100; ++i) {
            out.clear();
            std::ifstream in(dir_ / "out.log");
            for (std::string line; std::getline(in, line);)
                out.push_back(line);
            if (out.size() >= count)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return out;
    }

private:
    const TempDir &dir_;
    pid_t pid_ = -1;
};

TEST(SyslogSinkRsyslog, RealRsyslogdParsesHeaderStructuredDataAndMessage) {
    ASSERT_TRUE(fs::exists("/usr/sbin/rsyslogd")) << "install Debian's rsyslog (scripts/deps.sh)";
    TempDir dir;
    Rsyslogd daemon(dir);
    ASSERT_TRUE(daemon.ready()) << "rsyslogd did not start; see " << (dir / "rsyslog.conf");
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = load(registry);
    open_session(plugin, dir / "log.sock");
    plugin.call("audit.event", plugin.audit()->event, record(1));
    plugin.call("audit.event", plugin.audit()->event, record(2, "allow"));
    close_session(plugin);
    const auto lines = daemon.lines(2);
    ASSERT_EQ(lines.size(), 2u);
    // RSYSLOG_SyslogProtocol23Format: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, as rsyslog
    // parsed them (so the fields were understood, not just passed through).
    const std::string sd = R"([rustyolo@32473 session="0a1b2c3d4e5f" verdict="block" event="query"])";
    EXPECT_EQ(lines[0].rfind("<36>1 2026-11-28T08:10:18.123", 0), 0u) << lines[0];
    EXPECT_THAT(lines[0], HasSubstr(" rustyolo " + std::to_string(::getpid()) + " dns " + sd + " "));
    EXPECT_EQ(lines[1].rfind("<38>1 ", 0), 0u) << lines[1];
    // The MSG is the record, whole: it parses back to the same JSON.
    const auto json_start = lines[0].find("] {");
    ASSERT_NE(json_start, std::string::npos);
    EXPECT_EQ(json::parse(lines[0].substr(json_start + 2)), json::value(record(1)));
}

}  // namespace
}  // namespace rustyolo::audit_syslog
