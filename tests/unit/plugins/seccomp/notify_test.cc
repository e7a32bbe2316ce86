// Deriving the reporting filter: which ERRNO actions become notifications, which errno the
// supervisor is told to answer, and which denials stay silent because a notification could not
// tell their errno apart. (The kernel's side: tests/unit/entrypoint/syscall_reporter_test.cc.)
#include "plugins/seccomp/default_policy.hpp"
#include "plugins/seccomp/docker_profile.hpp"
#include "plugins/seccomp/notify.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

namespace rustyolo::seccomp {
namespace {

namespace json = boost::json;

Filter profile(const char *text) { return profile_filter(json::parse(text), nullptr); }

// action of every rule of the reporting filter for `name` (SCMP_ACT_* text), in order.
std::vector<std::string> actions_for(const Filter &filter, const std::string &name) {
    std::vector<std::string> out;
    for (const auto &rule : filter.rule_list())
        if (rule.name == name)
            out.push_back(action_name(rule.action));
    return out;
}

int table_errno(const ReportingFilter &r, const std::string &name) {
    return static_cast<int>(r.errnos.at("syscalls").as_object().at(name).as_object().at("errno").as_int64());
}

std::string table_rule(const ReportingFilter &r, const std::string &name) {
    return std::string(r.errnos.at("syscalls").as_object().at(name).as_object().at("rule").as_string());
}

TEST(SeccompReporting, DefaultPolicyNotifiesEveryDenialWithItsOwnErrno) {
    const ReportingFilter r = reporting_filter(default_filter());
    ASSERT_TRUE(r.filter);
    EXPECT_EQ(r.warning, "");
    // clone3 stays a plain ENOSYS rule: libc tries it for every thread, a record would be noise.
    EXPECT_EQ(r.silent, std::vector<std::string>{"clone3"});
    EXPECT_TRUE(r.errnos.at("default").is_null());  // the default action allows
    EXPECT_EQ(r.filter->default_action(), SCMP_ACT_ALLOW);
    EXPECT_EQ(r.filter->rules(), default_filter().rules());
    for (const auto &rule : r.filter->rule_list())
        EXPECT_EQ(rule.action, rule.name == "clone3" ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_NOTIFY) << rule.name;
    EXPECT_EQ(table_errno(r, "keyctl"), EPERM);
    EXPECT_EQ(table_rule(r, "keyctl"), "default: always denied");
    EXPECT_FALSE(r.errnos.at("syscalls").as_object().contains("clone3"));
    EXPECT_EQ(table_errno(r, "clone"), EPERM);
    EXPECT_EQ(table_rule(r, "clone"), "default: clone with a namespace flag");
    EXPECT_EQ(table_errno(r, "personality"), EPERM);
    EXPECT_EQ(table_errno(r, "ioctl"), EPERM);
    // The address-family allowlist is reported with its own errno (socket and socketpair share
    // i386's socketcall and agree on it).
    EXPECT_EQ(table_errno(r, "socket"), EAFNOSUPPORT);
    EXPECT_EQ(table_errno(r, "socketpair"), EAFNOSUPPORT);
    EXPECT_EQ(table_rule(r, "socket"), "default: address family");
    EXPECT_NE(r.filter->export_pfc().find("action 0x7fc00000;"), std::string::npos);  // SECCOMP_RET_USER_NOTIF
}

TEST(SeccompReporting, ArgumentConditionsAreKeptExactly) {
    const Filter policy = default_filter();
    const ReportingFilter r = reporting_filter(policy);
    ASSERT_TRUE(r.filter);
    ASSERT_EQ(r.filter->rule_list().size(), policy.rule_list().size());
    for (std::size_t i = 0; i < policy.rule_list().size(); ++i) {
        const auto &a = policy.rule_list()[i];
        const auto &b = r.filter->rule_list()[i];
        EXPECT_EQ(a.name, b.name);
        ASSERT_EQ(a.conditions.size(), b.conditions.size()) << a.name;
        for (std::size_t c = 0; c < a.conditions.size(); ++c) {
            EXPECT_EQ(a.conditions[c].arg, b.conditions[c].arg);
            EXPECT_EQ(a.conditions[c].op, b.conditions[c].op);
            EXPECT_EQ(a.conditions[c].datum_a, b.conditions[c].datum_a);
            EXPECT_EQ(a.conditions[c].datum_b, b.conditions[c].datum_b);
        }
    }
}

TEST(SeccompReporting, ErrnoDefaultBecomesTheNotificationAndUnconditionalRulesFoldIntoIt) {
    // Docker's shape: deny by default (EPERM), allow a list, one call with its own errno (keyctl
    // here), clone3 with ENOSYS (which stays a plain rule: never reported).
    const ReportingFilter r = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "syscalls": [
            {"names": ["read", "write", "close", "brk", "mmap", "munmap", "mremap", "madvise", "sendmsg",
                       "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
        ]})"));
    ASSERT_TRUE(r.filter) << r.warning;
    EXPECT_EQ(r.filter->default_action(), SCMP_ACT_NOTIFY);
    const auto &def = r.errnos.at("default").as_object();
    EXPECT_EQ(def.at("errno").as_int64(), EPERM);
    EXPECT_EQ(def.at("rule").as_string(), "profile /defaultAction");
    // keyctl's own rule is left out: the default's notification stands for it, answered ENOSYS.
    EXPECT_TRUE(actions_for(*r.filter, "keyctl").empty());
    EXPECT_EQ(table_errno(r, "keyctl"), ENOSYS);
    EXPECT_EQ(table_rule(r, "keyctl"), "profile /syscalls/1");
    EXPECT_EQ(actions_for(*r.filter, "read"), std::vector<std::string>{"SCMP_ACT_ALLOW"});
    EXPECT_FALSE(actions_for(*r.filter, "clone3").empty());
    EXPECT_EQ(r.silent, std::vector<std::string>{"clone3"});
}

TEST(SeccompReporting, ConditionalErrnoUnderAnErrnoDefaultStaysSilent) {
    // dup(1000) -> EACCES, other dup -> the default's EPERM: one notification could not tell which.
    const ReportingFilter r = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["write", "close", "brk", "mmap", "munmap", "mremap", "madvise", "sendmsg", "exit_group"],
             "action": "SCMP_ACT_ALLOW"},
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "value": 1000, "op": "SCMP_CMP_EQ"}]}
        ]})"));
    ASSERT_TRUE(r.filter) << r.warning;
    EXPECT_EQ(r.silent, std::vector<std::string>{"dup"});
    EXPECT_EQ(actions_for(*r.filter, "dup"), std::vector<std::string>{"SCMP_ACT_ERRNO(13)"});
    EXPECT_FALSE(r.errnos.at("syscalls").as_object().contains("dup"));  // its notifications: the default's
}

TEST(SeccompReporting, OneSyscallWithSeveralErrnosStaysSilentUnderAnAllowDefault) {
    const ReportingFilter r = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "value": 1000, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 0, "value": 1001, "op": "SCMP_CMP_EQ"}]},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
        ]})"));
    ASSERT_TRUE(r.filter) << r.warning;
    EXPECT_EQ(r.silent, std::vector<std::string>{"dup"});
    EXPECT_EQ(actions_for(*r.filter, "dup"), (std::vector<std::string>{"SCMP_ACT_ERRNO(13)", "SCMP_ACT_ERRNO(1)"}));
    EXPECT_EQ(actions_for(*r.filter, "getppid"), std::vector<std::string>{"SCMP_ACT_NOTIFY"});
    EXPECT_EQ(table_errno(r, "getppid"), ENOSYS);
}

TEST(SeccompReporting, CallsSharingI386SocketcallMustAgreeOnTheErrno) {
    const ReportingFilter r = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["connect"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["bind"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
        ]})"));
    ASSERT_TRUE(r.filter) << r.warning;
    EXPECT_EQ(r.silent, (std::vector<std::string>{"bind", "connect"}));
    EXPECT_EQ(actions_for(*r.filter, "connect"), std::vector<std::string>{"SCMP_ACT_ERRNO(13)"});
    EXPECT_EQ(actions_for(*r.filter, "keyctl"), std::vector<std::string>{"SCMP_ACT_NOTIFY"});
}

TEST(SeccompReporting, APolicyThatMayDenyTheHandOverIsNotReported) {
    // sendmsg is denied by default here: the agent's process could not pass the listener on.
    const ReportingFilter r = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["write", "close"], "action": "SCMP_ACT_ALLOW"}]})"));
    EXPECT_FALSE(r.filter);
    EXPECT_NE(r.warning.find("may deny brk"), std::string::npos) << r.warning;
    // A conditional allow is not enough either.
    const ReportingFilter c = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["sendmsg"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]}]})"));
    EXPECT_FALSE(c.filter);
    EXPECT_NE(c.warning.find("sendmsg"), std::string::npos) << c.warning;
}

TEST(SeccompReporting, NothingToReportWithoutErrnoActions) {
    const ReportingFilter r = reporting_filter(profile(R"({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS"}]})"));
    EXPECT_FALSE(r.filter);
    EXPECT_EQ(r.warning, "");
}

}  // namespace
}  // namespace rustyolo::seccomp
