// Translation of Docker-format profiles (--seccomp-profile FILE) and the Plan's syscall modes.
#include "plugins/seccomp/docker_profile.hpp"
#include "tests/unit/plugins/seccomp/pfc_text.hpp"
#include "plugins/seccomp/policy.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace rustyolo::seccomp {
namespace {

namespace json = boost::json;
using testing::sections_by_arch;
using testing::syscall_block;

struct Translated {
    std::map<std::string, std::string> sections;
    std::vector<std::uint32_t> arches;
    std::vector<std::string> debug;
};

Translated translate(const char *profile_text, ProfileTarget target = {}) {
    Translated t;
    Log log = [&t](LogLevel level, const std::string &message) {
        if (level == LogLevel::debug)
            t.debug.push_back(message);
    };
    Filter filter = profile_filter(json::parse(profile_text), log, target);
    t.arches = filter.arches();
    t.sections = sections_by_arch(filter.export_pfc());
    return t;
}

const std::string &native(const Translated &t) { return t.sections.at(arch_name(t.arches.front())); }

bool logged(const Translated &t, const std::string &needle) {
    for (const auto &m : t.debug)
        if (m.find(needle) != std::string::npos)
            return true;
    return false;
}

TEST(SeccompDockerProfile, DefaultActionAndAllowListBecomeTheFilter) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ERRNO",
                           "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})");
    EXPECT_EQ(t.arches, machine_arches());
    for (const auto &[arch, section] : t.sections) {
        EXPECT_NE(section.find("action ERRNO(" + std::to_string(EPERM) + ");"), std::string::npos) << arch;
        EXPECT_NE(syscall_block(section, "read").find("action ALLOW;"), std::string::npos) << arch;
        EXPECT_NE(syscall_block(section, "write").find("action ALLOW;"), std::string::npos) << arch;
    }
}

TEST(SeccompDockerProfile, ErrnoRetAndDefaultErrnoRetAreHonoured) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                           "syscalls": [{"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                                        {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
    const std::string &section = native(t);
    EXPECT_NE(section.find("action ERRNO(38);"), std::string::npos);
    EXPECT_NE(syscall_block(section, "mkdir").find("action ERRNO(13);"), std::string::npos) << section;
}

TEST(SeccompDockerProfile, MaskedEqTakesValueAsMaskAndValueTwoAsResult) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}]})");
    const std::string block = syscall_block(native(t), "personality");
    EXPECT_NE(block.find("& 0x000000ff == 8"), std::string::npos) << block;
}

TEST(SeccompDockerProfile, ConditionsOnTheSameArgumentBecomeAlternatives) {
    // libseccomp cannot AND two conditions on one argument; runc (and so Docker) turns them into
    // separate rules, any of which may match.
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                  {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})");
    const std::string block = syscall_block(native(t), "personality");
    EXPECT_NE(block.find("== 0)"), std::string::npos) << block;
    EXPECT_NE(block.find("== 8)"), std::string::npos) << block;
}

TEST(SeccompDockerProfile, ConditionsOnDifferentArgumentsMustAllHold) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"},
                  {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]}]})");
    const std::string block = syscall_block(native(t), "socket");
    const auto a0 = block.find("$a0");
    const auto a2 = block.find("$a2");
    ASSERT_NE(a0, std::string::npos) << block;
    ASSERT_NE(a2, std::string::npos) << block;
}

TEST(SeccompDockerProfile, UnknownAndForeignSyscallsAreSkippedWithADebugLog) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "no_such_syscall", "s390_pci_mmio_read"], "action": "SCMP_ACT_ALLOW"}]})");
    EXPECT_FALSE(syscall_block(native(t), "read").empty());
    EXPECT_TRUE(logged(t, "'no_such_syscall' is unknown to libseccomp"));
#if defined(__x86_64__)
    EXPECT_TRUE(logged(t, "'s390_pci_mmio_read' does not exist on this machine"));
#endif
}

TEST(SeccompDockerProfile, RulesThatNeedCapabilitiesOrOtherArchesDoNotApply) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
        {"names": ["chown"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_CHOWN"]}},
        {"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
        {"names": ["write"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}]})",
                       ProfileTarget{machine_arches(), "6.1.0-13-amd64"});
    const std::string &section = native(t);
    EXPECT_TRUE(syscall_block(section, "mount").empty());
    EXPECT_TRUE(syscall_block(section, "ptrace").empty());
    EXPECT_FALSE(syscall_block(section, "chown").empty());
    EXPECT_FALSE(syscall_block(section, "read").empty());
    EXPECT_TRUE(syscall_block(section, "write").empty());
    EXPECT_TRUE(logged(t, "the agent has none"));
}

TEST(SeccompDockerProfile, ARuleWithTheDefaultActionIsRedundantAndSkipped) {
    auto t = translate(R"({"defaultAction": "SCMP_ACT_ALLOW",
                           "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
    EXPECT_TRUE(syscall_block(native(t), "read").empty());
    EXPECT_TRUE(logged(t, "default action"));
}

#if defined(__x86_64__)
TEST(SeccompDockerProfile, ArchMapNarrowsTheAbisButNeverDropsTheNativeOne) {
    auto only_native = translate(R"({"defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}]})");
    EXPECT_EQ(only_native.arches, std::vector<std::uint32_t>{SCMP_ARCH_X86_64});
    auto with_x86 = translate(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"]})");
    EXPECT_EQ(with_x86.arches, (std::vector<std::uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86}));
}
#endif

TEST(SeccompDockerProfile, MalformedProfilesAreRefusedWithTheJsonPath) {
    for (
        const char *text : {
            R"({"syscalls": []})",
            R"({"defaultAction": "SCMP_ACT_NOPE"})",
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]})",
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_ROUGHLY"}]}]})",
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                 "errnoRet": 70000}]})",
        })
        EXPECT_THROW(profile_filter(json::parse(text), nullptr), std::invalid_argument) << text;
}

// --- the Plan's modes ------------------------------------------------------------------------

TEST(SeccompPolicy, DefaultModeBuildsTheDefaultFilter) {
    auto filter = policy_filter(json::object{{"mode", "default"}, {"profile", nullptr}}, nullptr);
    ASSERT_TRUE(filter);
    EXPECT_GT(filter->rules(), 40u);
}

TEST(SeccompPolicy, NoneModeBuildsNoFilterAndWarnsLoudly) {
    std::vector<std::string> warnings;
    Log log = [&](LogLevel level, const std::string &m) {
        if (level == LogLevel::warn)
            warnings.push_back(m);
    };
    EXPECT_FALSE(policy_filter(json::object{{"mode", "none"}}, log));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("SECCOMP IS DISABLED"), std::string::npos);
}

TEST(SeccompPolicy, ProfileModeTranslatesThePlansProfile) {
    json::object syscalls{{"mode", "profile"}, {"profile", json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
                               "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]})")}};
    auto filter = policy_filter(syscalls, nullptr);
    ASSERT_TRUE(filter);
    EXPECT_EQ(filter->rules(), 1u);
}

TEST(SeccompPolicy, UnknownModeOrMissingProfileIsRefused) {
    EXPECT_THROW(policy_filter(json::object{{"mode", "strict"}}, nullptr), std::invalid_argument);
    EXPECT_THROW(policy_filter(json::object{{"mode", "profile"}}, nullptr), std::invalid_argument);
    EXPECT_THROW(policy_filter(json::object{}, nullptr), std::invalid_argument);
}

TEST(SeccompFilter, ErrorsNameTheSyscallLikeCrun) {
    Filter filter(SCMP_ACT_ALLOW, machine_arches());
    try {
        filter.add_rule(SCMP_ACT_ERRNO(EPERM), "no_such_syscall");
        FAIL() << "no exception";
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("seccomp_rule_add 'no_such_syscall'"), std::string::npos)
            << e.what();
    }
    try {
        // Two conditions on one argument: libseccomp refuses the rule.
        filter.add_rule(SCMP_ACT_ERRNO(EPERM), "ptrace",
                        {condition(0, SCMP_CMP_EQ, 1), condition(0, SCMP_CMP_EQ, 2)});
        FAIL() << "no exception";
    } catch (const std::runtime_error &e) {
        EXPECT_EQ(std::string(e.what()), "seccomp_rule_add 'ptrace': Invalid argument");
    }
}

}  // namespace
}  // namespace rustyolo::seccomp
