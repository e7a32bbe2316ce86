// The engine's profile: Docker's default with every syscall the agent filter reports allowed, so
// that the engine's ERRNO (which outranks USER_NOTIF) never takes those denials away from the
// agent filter's notifications. (End to end: tests/integration/test_syscall_audit.py.)
#include "plugins/seccomp/default_policy.hpp"
#include "plugins/seccomp/docker_profile.hpp"
#include "plugins/seccomp/engine_profile.hpp"
#include "plugins/seccomp/notify.hpp"
#include "plugins/seccomp/profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace rustyolo::seccomp {
namespace {

namespace json = boost::json;

// Docker's default profile in miniature: ERRNO default, an allow list, conditional rules, and the
// clone3 → ENOSYS rule.
const char *kDockerLike = R"({
  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "syscalls": [
    {"names": ["read", "write", "ptrace", "exit_group", "brk", "mmap", "munmap", "mremap", "madvise", "sendmsg",
               "close"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["mount", "vhangup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
  ]
})";

bool contains(const std::vector<std::string> &names, const std::string &name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> names_of(const json::value &rule) {
    std::vector<std::string> out;
    for (const auto &n : rule.at("names").as_array())
        out.emplace_back(n.as_string());
    return out;
}

struct TempFile {
    std::string path;
    explicit TempFile(const std::string &text) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "rustyolo-engine-XXXXXX").string();
        const int fd = ::mkstemp(tmpl.data());
        EXPECT_GE(fd, 0);
        ::close(fd);
        path = tmpl;
        std::ofstream(path) << text;
    }
    ~TempFile() { std::filesystem::remove(path); }
};

std::vector<std::string> default_policy_notified() {
    ReportingFilter reporting = reporting_filter(default_filter());
    EXPECT_TRUE(reporting.filter) << reporting.warning;
    return notified_syscalls(*reporting.filter, {});
}

TEST(EngineProfile, TheDefaultPolicysReportedSyscallsAreNamed) {
    auto names = default_policy_notified();
    for (const char *name : {"mount", "keyctl", "unshare", "bpf", "clone", "ptrace", "ioctl", "personality",
                             "io_uring_setup", "open_by_handle_at"})
        EXPECT_TRUE(contains(names, name)) << name;
    // clone3 is denied (ENOSYS) but never reported: the engine keeps denying it itself.
    EXPECT_FALSE(contains(names, "clone3"));
    // 32-bit-only names the filter denies.
    for (const char *name : {"vm86", "vm86old"})
        EXPECT_TRUE(contains(names, name)) << name;
    // Positive control: what the policy never denies is not opened in the engine.
    for (const char *name : {"read", "write", "get_mempolicy", "vhangup", "syslog"})
        EXPECT_FALSE(contains(names, name)) << name;
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(EngineProfile, UnderAnErrnoDefaultEveryNameNotSurelyAllowedIsNamed) {
    ReportingFilter reporting = reporting_filter(profile_filter(json::parse(kDockerLike), nullptr));
    ASSERT_TRUE(reporting.filter) << reporting.warning;
    auto names = notified_syscalls(*reporting.filter, {"not_a_syscall_name"});
    // Reported through the NOTIFY default (not named by the profile).
    for (const char *name : {"mount", "vhangup", "get_mempolicy", "bpf", "personality", "socketcall"})
        EXPECT_TRUE(contains(names, name)) << name;
    EXPECT_FALSE(contains(names, "clone3"));  // a plain ENOSYS rule, never reported
    // Unconditionally allowed: never notified.
    for (const char *name : {"read", "write", "ptrace", "not_a_syscall_name"})
        EXPECT_FALSE(contains(names, name)) << name;
}

TEST(EngineProfile, AllowedNamesLeaveTheBasesDenyingRulesAndGetOneAllowRule) {
    json::value profile = engine_profile_with(json::parse(kDockerLike), {"mount", "clone3", "keyctl"});
    const auto &rules = profile.at("syscalls").as_array();
    ASSERT_EQ(rules.size(), 5u);  // clone3's rule is gone (no name left), the allow rule appended
    EXPECT_EQ(names_of(rules[0]), names_of(json::parse(kDockerLike).at("syscalls").at(0)));
    EXPECT_EQ(names_of(rules[1]), std::vector<std::string>{"personality"});
    EXPECT_EQ(names_of(rules[2]), std::vector<std::string>{"vhangup"});  // mount taken out, vhangup stays denied
    EXPECT_EQ(rules[2].at("action"), "SCMP_ACT_ERRNO");
    EXPECT_EQ(names_of(rules[3]), std::vector<std::string>{"bpf"});  // an allow rule is left as it is
    const auto &added = rules[4].as_object();
    EXPECT_EQ(names_of(added), (std::vector<std::string>{"clone3", "keyctl", "mount"}));
    EXPECT_EQ(added.at("action"), "SCMP_ACT_ALLOW");
    EXPECT_EQ(added.at("comment"), kEngineAllowComment);
    EXPECT_EQ(profile.at("defaultAction"), "SCMP_ACT_ERRNO");
    // Still a valid Docker-format profile.
    EXPECT_NO_THROW(validate_docker_profile(profile, "engine"));
    EXPECT_THROW(engine_profile_with(json::object{{"defaultAction", "SCMP_ACT_ERRNO"}}, {"mount"}),
                 std::invalid_argument);
}

TEST(EngineProfile, DefaultModeGetsDockersProfileWithTheReportedSyscallsAllowed) {
    TempFile docker(kDockerLike);
    std::vector<std::string> warnings;
    json::value profile = engine_profile(json::object{{"mode", "default"}}, docker.path, warnings);
    EXPECT_TRUE(warnings.empty());
    ASSERT_TRUE(profile.is_object());
    const auto &rules = profile.at("syscalls").as_array();
    const auto added = names_of(rules.back());
    EXPECT_EQ(added, default_policy_notified());
    for (const auto &rule : rules) {
        if (rule.at("action") != "SCMP_ACT_ALLOW") {
            for (const auto &name : names_of(rule))
                EXPECT_FALSE(contains(added, name)) << "still denied by the engine: " << name;
        }
    }
}

TEST(EngineProfile, AUsersProfileGetsDockersDefaultAsTheEnginesBase) {
    TempFile docker(kDockerLike);
    std::vector<std::string> warnings;
    json::object syscalls{{"mode", "profile"},
                          {"profile", json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
                              "syscalls": [{"names": ["vhangup"], "action": "SCMP_ACT_ERRNO"}]})")}};
    json::value profile = engine_profile(syscalls, docker.path, warnings);
    ASSERT_TRUE(profile.is_object());
    EXPECT_EQ(profile.at("defaultAction"), "SCMP_ACT_ERRNO");  // Docker's, not the user's
    EXPECT_EQ(names_of(profile.at("syscalls").as_array().back()), std::vector<std::string>{"vhangup"});
}

TEST(EngineProfile, NoneModeOrNothingReportedKeepsTheEnginesDefault) {
    TempFile docker(kDockerLike);
    std::vector<std::string> warnings;
    EXPECT_TRUE(engine_profile(json::object{{"mode", "none"}}, docker.path, warnings).is_null());
    // A policy that denies nothing with an errno reports nothing.
    json::object allow_all{{"mode", "profile"}, {"profile", json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW"})")}};
    EXPECT_TRUE(engine_profile(allow_all, docker.path, warnings).is_null());
    EXPECT_TRUE(warnings.empty());
}

TEST(EngineProfile, AMissingDockerProfileKeepsTheEnginesDefaultWithAWarning) {
    std::vector<std::string> warnings;
    EXPECT_TRUE(engine_profile(json::object{{"mode", "default"}}, "/nonexistent/default.json", warnings).is_null());
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find(kDockerDefaultProfilePackage), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("not recorded"), std::string::npos) << warnings[0];
    TempFile broken("{\"defaultAction\": ");
    warnings.clear();
    EXPECT_TRUE(engine_profile(json::object{{"mode", "default"}}, broken.path, warnings).is_null());
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find(broken.path), std::string::npos) << warnings[0];
}

TEST(EngineProfile, PrepareCarriesTheEngineProfile) {
    TempFile docker(kDockerLike);
    json::object result = prepare(json::object{{"profile", "default"}}, docker.path);
    ASSERT_TRUE(result.at("engine_profile").is_object());
    EXPECT_TRUE(result.at("warnings").as_array().empty());
    result = prepare(json::object{{"profile", "none"}}, docker.path);
    EXPECT_TRUE(result.at("engine_profile").is_null());
    result = prepare(json::object{{"profile", "default"}}, "/nonexistent/default.json");
    EXPECT_TRUE(result.at("engine_profile").is_null());
    EXPECT_EQ(result.at("warnings").as_array().size(), 1u);
}

// A request field of the wrong type is refused, naming it, instead of falling back to "default".
TEST(EngineProfile, PrepareRefusesARequestFieldOfTheWrongType) {
    TempFile docker(kDockerLike);
    try {
        prepare(json::object{{"profile", 5}}, docker.path);
        FAIL() << "no error";
    } catch (const std::invalid_argument &e) {
        EXPECT_EQ(std::string(e.what()), "seccomp prepare request: /profile: expected a string");
    }
    EXPECT_THROW(prepare(json::object{{"profile", "custom"}, {"path", true}}, docker.path), std::invalid_argument);
    // Absent means the default profile.
    EXPECT_EQ(prepare(json::object{}, docker.path).at("mode"), "default");
}

// Docker's real profile as Debian ships it (scripts/debian-packages.txt installs it).
TEST(EngineProfile, DockersShippedProfileAllowsWhatTheDefaultPolicyReports) {
    if (!std::filesystem::exists(kDockerDefaultProfilePath))
        GTEST_SKIP() << kDockerDefaultProfilePath << " missing: install " << kDockerDefaultProfilePackage;
    std::vector<std::string> warnings;
    json::value profile = engine_profile(json::object{{"mode", "default"}}, kDockerDefaultProfilePath, warnings);
    ASSERT_TRUE(profile.is_object()) << (warnings.empty() ? "" : warnings[0]);
    const auto &rules = profile.at("syscalls").as_array();
    EXPECT_EQ(rules.back().at("comment"), kEngineAllowComment);
    EXPECT_TRUE(contains(names_of(rules.back()), "mount"));
    EXPECT_FALSE(contains(names_of(rules.back()), "clone3"));  // the engine keeps its ENOSYS for clone3
    bool clone3_denied = false;
    for (const auto &rule : rules) {
        if (rule.at("action") != "SCMP_ACT_ALLOW") {
            EXPECT_FALSE(contains(names_of(rule), "mount"));
            clone3_denied = clone3_denied || contains(names_of(rule), "clone3");
        }
    }
    EXPECT_TRUE(clone3_denied);
    EXPECT_NO_THROW(validate_docker_profile(profile, "engine"));
}

}  // namespace
}  // namespace rustyolo::seccomp
