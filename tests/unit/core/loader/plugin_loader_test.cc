#include "core/loader/plugin_loader.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string fixture(const std::string &name) { return std::string(RUSTYOLO_TEST_FIXTURE_DIR) + "/" + name + ".so"; }

// Expects loading `path` to be refused with a message containing every one of `parts`.
void expect_refused(const std::string &path, std::initializer_list<std::string> parts) {
    PluginRegistry registry(HostServices{});
    try {
        registry.load(path, false);
        FAIL() << path << " was loaded";
    } catch (const PluginLoadError &e) {
        std::string message = e.what();
        for (const auto &part : parts)
            EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in: " << message;
    }
    EXPECT_TRUE(registry.plugins().empty());
}

// A private copy of a fixture in a fresh directory, so that modes can be changed.
class PluginCopy {
public:
    explicit PluginCopy(const std::string &name) {
        dir_ = fs::temp_directory_path() / ("rustyolo-loader-" + std::to_string(::getpid()) + "-" + name);
        fs::remove_all(dir_);
        fs::create_directory(dir_);
        fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
        path_ = (dir_ / (name + ".so")).string();
        fs::copy_file(fixture(name), path_);
        ::chmod(path_.c_str(), 0755);
    }
    ~PluginCopy() { fs::remove_all(dir_); }
    const std::string &path() const { return path_; }
    std::string dir() const { return dir_.string(); }

private:
    fs::path dir_;
    std::string path_;
};

TEST(PluginLoader, GoodPluginLoadsWithItsDescriptorAndHooks) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("good"), false);
    EXPECT_EQ(p.name(), "fixture-good");
    EXPECT_EQ(p.version(), "1.2.3");
    EXPECT_EQ(p.abi_major(), RUSTYOLO_ABI_MAJOR);
    EXPECT_EQ(p.hooks(), (std::vector<std::string>{"agent", "network", "mount", "resource", "syscall", "audit",
                                                   "runtime"}));
    EXPECT_EQ(p.call_names("agent.names", p.agent()->names), std::vector<std::string>{"good-agent"});
}

TEST(PluginLoader, HookResultComesBackAsJson) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("good"), false);
    json::value verdict = p.call("mount.judge", p.mount()->judge, json::object{{"source", "/x"}});
    EXPECT_EQ(verdict.at("verdict").as_string(), "allow");
}

TEST(PluginLoader, InvalidInputFromAPluginIsAUsageErrorWithItsMessage) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("good"), false);
    try {
        p.call("network.normalize", p.network()->normalize, json::object{{"bad", true}});
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_STREQ(e.what(), "entry \"bad\" is invalid: fixture says so");
    }
}

TEST(PluginLoader, UnsupportedRequestIsReportedWithItsStatus) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("good"), false);
    try {
        p.call("agent.profile", p.agent()->profile, json::object{{"agent", "other"}});
        FAIL();
    } catch (const PluginCallError &e) {
        EXPECT_EQ(e.status, RUSTYOLO_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("not my agent"), std::string::npos);
    }
}

TEST(PluginLoader, ConfigReachesThePluginAndCreateFailureIsExplained) {
    PluginRegistry registry(HostServices{});
    try {
        registry.load(fixture("good"), false, json::object{{"fail", true}});
        FAIL();
    } catch (const PluginLoadError &e) {
        EXPECT_NE(std::string(e.what()).find("create() failed: configured to fail in create"), std::string::npos);
    }
}

TEST(PluginLoader, AuditEventsFromPluginsReachTheHost) {
    std::vector<std::string> seen;
    PluginRegistry registry(HostServices{"host", [&](const std::string &plugin, const json::object &event) {
                                              seen.push_back(plugin + ":" + json::serialize(event));
                                          }});
    const LoadedPlugin &p = registry.load(fixture("good"), false);
    p.call("audit.event", p.audit()->event, json::object{{"layer", "dns"}});
    EXPECT_EQ(seen, std::vector<std::string>{"fixture-good:{\"layer\":\"dns\"}"});
}

TEST(PluginLoader, EveryThrowingHookBecomesAnErrorNamingPluginAndHook) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("throws"), false);
    struct Case {
        const char *hook;
        std::function<void()> call;
        const char *message;
    };
    const json::object req{{"agent", "x"}};
    std::vector<Case> cases{
        {"agent.names", [&] { p.call("agent.names", p.agent()->names); }, "agent.names exploded"},
        {"agent.profile", [&] { p.call("agent.profile", p.agent()->profile, req); }, "agent.profile exploded"},
        {"network.normalize", [&] { p.call("network.normalize", p.network()->normalize, req); },
         "network.normalize exploded"},
        {"network.install", [&] { p.call("network.install", p.network()->install, req); },
         "unknown exception (not derived from std::exception)"},
        {"network.self_test", [&] { p.call("network.self_test", p.network()->self_test, req); }, "bad_alloc"},
        {"mount.judge", [&] { p.call("mount.judge", p.mount()->judge, req); }, "mount.judge exploded"},
        {"resource.resolve", [&] { p.call("resource.resolve", p.resource()->resolve, req); },
         "resource.resolve exploded"},
        {"syscall.prepare", [&] { p.call("syscall.prepare", p.syscall()->prepare, req); }, "syscall.prepare exploded"},
        {"syscall.install", [&] { p.call("syscall.install", p.syscall()->install, req); },
         "unknown exception (not derived from std::exception)"},
        {"audit.open", [&] { p.call("audit.open", p.audit()->open, req); }, "audit.open exploded"},
        {"audit.event", [&] { p.call("audit.event", p.audit()->event, req); }, "audit.event exploded"},
        {"audit.close", [&] { p.call("audit.close", p.audit()->close, req); }, "audit.close exploded"},
        {"runtime.names", [&] { p.call("runtime.names", p.runtime()->names); }, "runtime.names exploded"},
        {"runtime.command", [&] { p.call("runtime.command", p.runtime()->command, req); }, "runtime.command exploded"},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.hook);
        try {
            c.call();
            ADD_FAILURE() << "no error";
        } catch (const PluginCallError &e) {
            std::string message = e.what();
            EXPECT_EQ(e.status, RUSTYOLO_ERROR);
            EXPECT_NE(message.find("fixture-throws"), std::string::npos) << message;
            EXPECT_NE(message.find(c.hook), std::string::npos) << message;
            EXPECT_NE(message.find(c.message), std::string::npos) << message;
        }
    }
}

TEST(PluginLoader, WrongMajorIsRefusedNamingFileAndBothVersions) {
    expect_refused(fixture("wrong_major"),
                   {fixture("wrong_major"), "ABI 2." + std::to_string(RUSTYOLO_ABI_MINOR), "ABI " + std::to_string(RUSTYOLO_ABI_MAJOR) + "." +
                                                           std::to_string(RUSTYOLO_ABI_MINOR),
                    "major"});
}

TEST(PluginLoader, NewerMinorIsRefusedNamingFileAndBothVersions) {
    std::string newer = std::to_string(RUSTYOLO_ABI_MAJOR) + "." + std::to_string(RUSTYOLO_ABI_MINOR + 1);
    expect_refused(fixture("newer_minor"), {fixture("newer_minor"), "ABI " + newer, "newer", "upgrade rustyolo"});
}

TEST(PluginLoader, OversizedDescriptorIsRefused) {
    expect_refused(fixture("oversized"), {fixture("oversized"), "descriptor declares struct_size",
                                          std::to_string(sizeof(rustyolo_plugin_descriptor) + 64)});
}

TEST(PluginLoader, OversizedHookTableIsRefused) {
    expect_refused(fixture("oversized_table"), {fixture("oversized_table"), "mount table declares struct_size"});
}

TEST(PluginLoader, PluginThatDeclinesTheHostIsRefused) {
    expect_refused(fixture("declines"), {fixture("declines"), "declined host ABI"});
}

TEST(PluginLoader, MissingEntrySymbolIsRefused) {
    expect_refused(fixture("no_entry"), {fixture("no_entry"), "does not export rustyolo_plugin_entry"});
}

TEST(PluginLoader, RawCPluginWithinTheRulesLoads) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("minimal"), false);
    EXPECT_EQ(p.hooks(), std::vector<std::string>{"mount"});
}

TEST(PluginLoader, PluginOfAbi10LoadsAndTheHooksAppendedIn11ReadAsNull) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("abi_1_0"), false);
    EXPECT_EQ(p.abi_major(), 1u);
    EXPECT_EQ(p.abi_minor(), 0u);
    EXPECT_EQ(p.hooks(), (std::vector<std::string>{"audit", "runtime"}));
    ASSERT_NE(p.runtime(), nullptr);
    ASSERT_NE(p.audit(), nullptr);
    // What 1.0 had works ...
    EXPECT_EQ(p.call_names("runtime.names", p.runtime()->names), std::vector<std::string>{"old-engine"});
    EXPECT_EQ(json::serialize(p.call("runtime.command", p.runtime()->command, json::object{})),
              R"({"argv":["old-engine","run"]})");
    EXPECT_NE(p.audit()->close, nullptr);
    // ... and what 1.1 appended is NULL, not whatever follows the plugin's shorter tables.
    EXPECT_EQ(p.runtime()->image_inspect, nullptr);
    EXPECT_EQ(p.runtime()->image_build, nullptr);
    EXPECT_EQ(p.audit()->read, nullptr);
    try {
        p.call("runtime.image_inspect", p.runtime()->image_inspect, json::object{});
        FAIL() << "a NULL hook was called";
    } catch (const PluginCallError &e) {
        EXPECT_EQ(e.status, RUSTYOLO_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("runtime.image_inspect is not implemented"), std::string::npos);
    }
}

// plugin_abi.h, "Threads": a plugin may call host_api->log and host_api->audit from its own threads.
// Every line and every event of 8 threads at once arrives whole.
TEST(PluginLoader, LogAndAuditFromThePluginsOwnThreadsArriveWhole) {
    std::mutex mutex;
    std::map<std::string, int> events;
    PluginRegistry registry(HostServices{"host", [&](const std::string &plugin, const json::object &event) {
                                              std::lock_guard lock(mutex);
                                              ++events[plugin + " " + json::serialize(event.at("details"))];
                                          }});
    std::ostringstream lines;
    auto previous = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("threads", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines));
    logger->set_pattern("%v");
    spdlog::set_default_logger(logger);
    const LoadedPlugin &p = registry.load(fixture("threaded"), false);
    constexpr int kThreads = 8, kEvents = 300;
    p.call("mount.judge", p.mount()->judge, json::object{{"threads", kThreads}, {"events", kEvents}});
    spdlog::set_default_logger(previous);

    EXPECT_EQ(events.size(), static_cast<std::size_t>(kThreads * kEvents));
    for (const auto &[key, n] : events)
        EXPECT_EQ(n, 1) << key;
    std::set<std::string> seen;
    std::istringstream in(lines.str());
    for (std::string line; std::getline(in, line);)
        seen.insert(line);
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kEvents));
    EXPECT_TRUE(seen.contains("[fixture-threaded] thread 7 event 299"));
}

TEST(PluginLoader, PluginOfTheCurrentAbiHasTheAppendedHooks) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("good"), false);
    EXPECT_EQ(p.abi_minor(), RUSTYOLO_ABI_MINOR);
    if (p.runtime()) {
        EXPECT_NE(p.runtime()->image_inspect, nullptr);
        EXPECT_NE(p.runtime()->image_build, nullptr);
    }
    if (p.audit()) {
        EXPECT_NE(p.audit()->read, nullptr);
    }
}

TEST(PluginLoader, PluginCallErrorCarriesThePluginsOwnReason) {
    PluginRegistry registry(HostServices{});
    const LoadedPlugin &p = registry.load(fixture("throws"), false);
    ASSERT_NE(p.mount(), nullptr);
    try {
        p.call("mount.judge", p.mount()->judge, json::object{});
        FAIL();
    } catch (const PluginCallError &e) {
        EXPECT_NE(std::string(e.what()).find("plugin fixture-throws"), std::string::npos) << e.what();
        EXPECT_EQ(e.reason, "mount.judge exploded");
    }
}

TEST(PluginLoader, RelativePathIsRefused) {
    expect_refused("tests/fixtures/good.so", {"must be absolute"});
    expect_refused("./good.so", {"must be absolute"});
}

TEST(PluginLoader, MissingFileIsRefused) { expect_refused("/nonexistent/plugin.so", {"/nonexistent/plugin.so"}); }

TEST(PluginLoader, WorldWritableFileIsRefused) {
    PluginCopy copy("good");
    ::chmod(copy.path().c_str(), 0757);
    expect_refused(copy.path(), {copy.path(), "writable by group or others", "chmod go-w"});
}

TEST(PluginLoader, GroupWritableFileIsRefused) {
    PluginCopy copy("good");
    ::chmod(copy.path().c_str(), 0775);
    expect_refused(copy.path(), {"writable by group or others"});
}

TEST(PluginLoader, WorldWritableDirectoryIsRefused) {
    PluginCopy copy("good");
    ::chmod(copy.dir().c_str(), 0777);
    expect_refused(copy.path(), {"directory " + copy.dir(), "writable by group or others"});
}

TEST(PluginLoader, FileOwnedBySomeoneElseIsRefused) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to give the file to another owner";
    PluginCopy copy("good");
    ASSERT_EQ(::chown(copy.path().c_str(), 4242, 4242), 0);
    expect_refused(copy.path(), {"owned by uid 4242"});
}

TEST(PluginLoader, SameNameTwiceIsRefusedNamingBothFiles) {
    PluginCopy copy("good");
    PluginRegistry registry(HostServices{});
    registry.load(fixture("good"), false);
    try {
        registry.load(copy.path(), false);
        FAIL();
    } catch (const PluginLoadError &e) {
        std::string message = e.what();
        EXPECT_NE(message.find(copy.path()), std::string::npos);
        EXPECT_NE(message.find(fixture("good")), std::string::npos);
    }
}

TEST(PluginLoader, NonPluginSharedObjectsInADirAreNotSilentlyIgnored) {
    // load_dir loads every .so it finds: a non-plugin there is an error, not a skip.
    PluginCopy copy("no_entry");
    PluginRegistry registry(HostServices{});
    EXPECT_THROW(registry.load_dir(copy.dir(), false), PluginLoadError);
}

}  // namespace
}  // namespace rustyolo
