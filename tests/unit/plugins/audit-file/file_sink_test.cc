// The audit file sink: file naming, the private directory, exclusive creation, whole lines, the
// lock, and the built plugin driven through the host's PluginRegistry.
#include "plugins/audit-file/file_sink.hpp"

#include "core/loader/plugin_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rustyolo::audit_file {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

const char *kStarted = "2026-11-28T08:10:18.123Z";

class AuditFileDir : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("rustyolo-audit-file-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
        fs::create_directory(base_);
        fs::permissions(base_, fs::perms::owner_all, fs::perm_options::replace);
    }
    void TearDown() override { fs::remove_all(base_); }
    std::string dir(const std::string &name = "audit") const { return (base_ / name).string(); }
    static std::string read(const std::string &path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    static bool locked(const std::string &path) {
        const int fd = ::open(path.c_str(), O_RDONLY);
        const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        ::close(fd);
        return busy;
    }
    fs::path base_;
};

TEST(SessionFileName, SortsByStartTimeAndHasNoColons) {
    EXPECT_EQ(session_file_name(kStarted, "0a1b2c3d4e5f"), "2026-11-28T08-10-18.123Z-0a1b2c3d4e5f.jsonl");
    EXPECT_LT(session_file_name("2026-11-28T08:10:18.123Z", "ffff"), session_file_name("2026-11-28T08:10:19.001Z", "0000"));
}

TEST(SessionFileName, RejectsAnythingThatCouldLeaveTheDirectory) {
    EXPECT_THROW(session_file_name(kStarted, "../x"), std::invalid_argument);
    EXPECT_THROW(session_file_name(kStarted, "a/b"), std::invalid_argument);
    EXPECT_THROW(session_file_name(kStarted, ""), std::invalid_argument);
    EXPECT_THROW(session_file_name("2026/../../x", "abc"), std::invalid_argument);
    EXPECT_THROW(session_file_name("now", "abc"), std::invalid_argument);
}

TEST_F(AuditFileDir, CreatesMissingParentsPrivate) {
    FileSink sink;
    const std::string path = sink.open(dir("a/b/audit"), kStarted, "abc");
    EXPECT_EQ(path, dir("a/b/audit") + "/2026-11-28T08-10-18.123Z-abc.jsonl");
    for (const auto *d : {"a", "a/b", "a/b/audit"})
        EXPECT_EQ(fs::status(base_ / d).permissions() & fs::perms::all, fs::perms::owner_all) << d;
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AuditFileDir, WritesWholeLinesAndHoldsTheLockUntilClose) {
    FileSink sink;
    const std::string path = sink.open(dir(), kStarted, "abc");
    sink.write_line(R"({"seq":1})");
    EXPECT_EQ(read(path), "{\"seq\":1}\n");  // visible at once, before close
    EXPECT_TRUE(locked(path));
    sink.write_line(R"({"seq":2})");
    sink.close();
    EXPECT_FALSE(locked(path));
    EXPECT_EQ(read(path), "{\"seq\":1}\n{\"seq\":2}\n");
}

TEST_F(AuditFileDir, NeverOverwritesAnExistingFile) {
    fs::create_directory(dir());
    fs::permissions(dir(), fs::perms::owner_all, fs::perm_options::replace);
    std::ofstream(dir() + "/2026-11-28T08-10-18.123Z-abc.jsonl") << "old\n";
    FileSink sink;
    try {
        sink.open(dir(), kStarted, "abc");
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_THAT(e.what(), HasSubstr("already exists"));
    }
    EXPECT_EQ(read(dir() + "/2026-11-28T08-10-18.123Z-abc.jsonl"), "old\n");
}

TEST_F(AuditFileDir, NeverFollowsASymlinkAtTheFileName) {
    fs::create_directory(dir());
    fs::permissions(dir(), fs::perms::owner_all, fs::perm_options::replace);
    const std::string victim = (base_ / "victim").string();
    std::ofstream(victim) << "keep\n";
    fs::create_symlink(victim, dir() + "/2026-11-28T08-10-18.123Z-abc.jsonl");
    FileSink sink;
    EXPECT_THROW(sink.open(dir(), kStarted, "abc"), std::runtime_error);
    EXPECT_EQ(read(victim), "keep\n");
}

TEST_F(AuditFileDir, RefusesASymlinkedDirectory) {
    fs::create_directory(dir("real"));
    fs::permissions(dir("real"), fs::perms::owner_all, fs::perm_options::replace);
    fs::create_directory_symlink(dir("real"), dir("link"));
    FileSink sink;
    try {
        sink.open(dir("link"), kStarted, "abc");
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_THAT(e.what(), HasSubstr("is a symlink"));
    }
    EXPECT_TRUE(fs::is_empty(dir("real")));
    // Positive control: the real directory is accepted.
    EXPECT_NO_THROW(sink.open(dir("real"), kStarted, "abc"));
}

TEST_F(AuditFileDir, RefusesAGroupOrWorldWritableDirectory) {
    fs::create_directory(dir());
    for (auto extra : {fs::perms::group_write, fs::perms::others_write}) {
        fs::permissions(dir(), fs::perms::owner_all | extra, fs::perm_options::replace);
        FileSink sink;
        try {
            sink.open(dir(), kStarted, "abc");
            FAIL();
        } catch (const std::runtime_error &e) {
            EXPECT_THAT(e.what(), HasSubstr("writable by group or others"));
        }
    }
    fs::permissions(dir(), fs::perms::owner_all, fs::perm_options::replace);
    FileSink sink;
    EXPECT_NO_THROW(sink.open(dir(), kStarted, "abc"));
}

TEST_F(AuditFileDir, RefusesADirectoryOwnedBySomeoneElse) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to give the directory to another uid";
    fs::create_directory(dir());
    fs::permissions(dir(), fs::perms::owner_all, fs::perm_options::replace);
    ASSERT_EQ(::chown(dir().c_str(), 4242, 4242), 0);
    FileSink sink;
    try {
        sink.open(dir(), kStarted, "abc");
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_THAT(e.what(), HasSubstr("owned by uid 4242"));
    }
}

// --- the built plugin, loaded as the CLI loads it -------------------------------------------------

TEST_F(AuditFileDir, PluginWritesEveryRecordAsReceivedAndReturnsItsLocation) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = registry.load(std::string(RUSTYOLO_TEST_PLUGIN_DIR) + "/audit-file.so", true);
    ASSERT_EQ(plugin.name(), "audit-file");
    ASSERT_NE(plugin.audit(), nullptr);
    const json::value opened = plugin.call("audit.open", plugin.audit()->open,
                                           json::object{{"session", "0a1b2c3d4e5f"}, {"agent", "claude"},
                                                        {"level", "basic"}, {"started", kStarted},
                                                        {"directory", dir()}, {"syslog_socket", "/dev/log"}});
    const std::string location(opened.at("location").as_string());
    EXPECT_EQ(location, dir() + "/2026-11-28T08-10-18.123Z-0a1b2c3d4e5f.jsonl");
    const json::object record{{"schema", 1}, {"time", kStarted}, {"session", "0a1b2c3d4e5f"}, {"seq", 1},
                              {"layer", "network"}, {"verdict", "block"}, {"event", "packet"},
                              {"details", json::object{{"destination", "10.1.2.3"}, {"note", "a\nb"}}}};
    plugin.call("audit.event", plugin.audit()->event, record);
    EXPECT_TRUE(locked(location));
    plugin.call("audit.close", plugin.audit()->close, json::object{{"exit_code", 0}, {"counts", json::object{}}});
    EXPECT_FALSE(locked(location));
    const std::string content = read(location);
    EXPECT_EQ(content, json::serialize(record) + "\n");  // one line: the newline inside is escaped
    EXPECT_EQ(json::parse(content), json::value(record));
}

TEST_F(AuditFileDir, PluginOpenFailureIsAClearError) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = registry.load(std::string(RUSTYOLO_TEST_PLUGIN_DIR) + "/audit-file.so", true);
    fs::create_directory(dir());
    fs::permissions(dir(), fs::perms::all, fs::perm_options::replace);
    try {
        plugin.call("audit.open", plugin.audit()->open,
                    json::object{{"session", "abc"}, {"started", kStarted}, {"directory", dir()}});
        FAIL();
    } catch (const std::exception &e) {
        EXPECT_THAT(e.what(), HasSubstr(dir()));
        EXPECT_THAT(e.what(), HasSubstr("writable by group or others"));
    }
}

// The cap the host passes as "max_bytes": the file on disk stays under it, ends with the "dropped"
// record carrying the exact total, and a cap below 64 KiB is refused.
TEST_F(AuditFileDir, PluginCapsTheFileAtMaxBytes) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &plugin = registry.load(std::string(RUSTYOLO_TEST_PLUGIN_DIR) + "/audit-file.so", true);
    constexpr std::uint64_t kMax = 64 * 1024;
    const json::value opened = plugin.call("audit.open", plugin.audit()->open,
                                           json::object{{"session", "0a1b2c3d4e5f"}, {"started", kStarted},
                                                        {"directory", dir()}, {"max_bytes", kMax}});
    const std::string location(opened.at("location").as_string());
    for (int seq = 1; seq <= 3000; ++seq)
        plugin.call("audit.event", plugin.audit()->event,
                    json::object{{"schema", 1}, {"time", kStarted}, {"session", "0a1b2c3d4e5f"}, {"seq", seq},
                                 {"layer", "network"}, {"verdict", "block"}, {"event", "packet"},
                                 {"details", json::object{{"destination", "10.1.2.3"}, {"port", seq}}}});
    plugin.call("audit.close", plugin.audit()->close,
                json::object{{"exit_code", 0}, {"counts", json::object{{"10.1.2.3:*/udp", 3000}}}});
    EXPECT_LE(fs::file_size(location), kMax);
    const std::string content = read(location);
    const std::string last = content.substr(content.rfind('\n', content.size() - 2) + 1);
    const json::value dropped = json::parse(last);
    EXPECT_EQ(dropped.at("event"), "dropped");
    EXPECT_EQ(dropped.at("details").at("blocked"), 3000);
    EXPECT_THAT(content, HasSubstr("\"event\":\"capped\""));

    for (const json::value &bad : {json::value(100), json::value(-1), json::value("64m")}) {
        try {
            plugin.call("audit.open", plugin.audit()->open,
                        json::object{{"session", "other"}, {"started", kStarted}, {"directory", dir()}, {"max_bytes", bad}});
            FAIL() << bad;
        } catch (const std::exception &e) {
            EXPECT_THAT(e.what(), HasSubstr("max_bytes"));
        }
    }
}

}  // namespace
}  // namespace rustyolo::audit_file
