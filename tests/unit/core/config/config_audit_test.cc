// Audit sink configuration: names, every source, precedence, and what a project file may change.
#include "core/config/config.hpp"
#include "core/config/config_env.hpp"
#include "core/config/config_toml.hpp"
#include "core/error.hpp"
#include "core/config/trust.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

namespace rustyolo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;

GetenvFn env_of(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char *name) -> const char * {
        const auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

ConfigLayer toml(const std::string &text, Source source = Source::user_file) {
    return parse_config_text(text, "/u/config.toml", source);
}

// --- names ---------------------------------------------------------------------------------------

TEST(AuditSinkNames, ShortAndFullPluginNamesMeanTheSameSink) {
    EXPECT_EQ(normalize_audit_sinks({"file", "audit-syslog"}, "x"), (Strings{"file", "syslog"}));
}

TEST(AuditSinkNames, RepeatedNamesAreKeptOnce) {
    EXPECT_EQ(normalize_audit_sinks({"file", "audit-file", "syslog", "file"}, "x"), (Strings{"file", "syslog"}));
}

TEST(AuditSinkNames, NameThatIsNoPluginNameIsRejectedWithTheValue) {
    for (const std::string bad : {"File", "../evil", "a b", "audit-", "x\x1b[2J", "", "sys_log"}) {
        try {
            normalize_audit_sinks({bad}, "--audit-sink");
            FAIL() << "accepted " << bad;
        } catch (const UsageError &e) {
            EXPECT_THAT(e.what(), HasSubstr("--audit-sink: audit sink"));
            EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("\x1b")));
        }
    }
}

TEST(AuditSinkNames, EmptyListIsRejected) {
    EXPECT_THROW(normalize_audit_sinks({}, "RUSTYOLO_AUDIT_SINKS"), UsageError);
}

TEST(AuditSinkNames, PluginNameAddsThePrefix) { EXPECT_EQ(audit_sink_plugin_name("syslog"), "audit-syslog"); }

// --- sources -------------------------------------------------------------------------------------

TEST(AuditConfig, DefaultsAreTheFileSinkAndDevLog) {
    const Config config = merge({default_layer()});
    EXPECT_EQ(config.audit_sinks, Strings{"file"});
    EXPECT_EQ(config.audit_syslog_socket, "/dev/log");
    EXPECT_EQ(config.audit_dir, "");
}

TEST(AuditConfig, TomlReadsSpaceSeparatedSinksSocketAndDir) {
    const auto layer = toml("[security]\naudit_sinks = \"file  audit-syslog\"\n"
                            "audit_syslog_socket = \"/run/log.sock\"\naudit_dir = \"~/audit\"\n");
    ASSERT_TRUE(layer.audit_sinks.has_value());
    EXPECT_EQ(*layer.audit_sinks, (Strings{"file", "syslog"}));
    EXPECT_EQ(layer.audit_syslog_socket, "/run/log.sock");
    EXPECT_EQ(layer.audit_dir, "~/audit");
}

TEST(AuditConfig, TomlReadsAnArrayOfSinks) {
    EXPECT_EQ(*toml("[security]\naudit_sinks = [\"syslog\"]\n").audit_sinks, Strings{"syslog"});
}

TEST(AuditConfig, TomlBadSinkNameNamesFileLineAndKey) {
    try {
        toml("[security]\n\naudit_sinks = \"file Syslog\"\n");
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_THAT(e.what(), HasSubstr("/u/config.toml:3: [security] audit_sinks: audit sink \"Syslog\""));
    }
}

TEST(AuditConfig, TomlEmptySinkListIsRejected) {
    EXPECT_THROW(toml("[security]\naudit_sinks = \"\"\n"), UsageError);
}

TEST(AuditConfig, TomlWrongTypeIsRejected) {
    EXPECT_THROW(toml("[security]\naudit_dir = 3\n"), UsageError);
    EXPECT_THROW(toml("[security]\naudit_sinks = 3\n"), UsageError);
}

TEST(AuditConfig, EnvironmentSetsSinksSocketAndDir) {
    const auto layer = environment_layer(env_of({{"RUSTYOLO_AUDIT_SINKS", " syslog audit-file "},
                                                 {"RUSTYOLO_AUDIT_SYSLOG_SOCKET", "/tmp/s"},
                                                 {"RUSTYOLO_AUDIT_DIR", "/var/a"}}));
    EXPECT_EQ(*layer.audit_sinks, (Strings{"syslog", "file"}));
    EXPECT_EQ(layer.audit_syslog_socket, "/tmp/s");
    EXPECT_EQ(layer.audit_dir, "/var/a");
}

TEST(AuditConfig, EmptyEnvironmentVariablesSayNothing) {
    const auto layer = environment_layer(env_of({{"RUSTYOLO_AUDIT_SINKS", "  "}, {"RUSTYOLO_AUDIT_DIR", ""}}));
    EXPECT_FALSE(layer.audit_sinks.has_value());
    EXPECT_FALSE(layer.audit_dir.has_value());
    EXPECT_FALSE(layer.audit_syslog_socket.has_value());
}

TEST(AuditConfig, EnvironmentBadSinkNameNamesTheVariable) {
    try {
        environment_layer(env_of({{"RUSTYOLO_AUDIT_SINKS", "file ;rm"}}));
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_THAT(e.what(), HasSubstr("RUSTYOLO_AUDIT_SINKS: audit sink \";rm\""));
    }
}

TEST(AuditConfig, LaterLayersReplaceTheSinkListAndSettings) {
    auto user = toml("[security]\naudit_sinks = \"file syslog\"\naudit_syslog_socket = \"/a\"\n");
    ConfigLayer env = environment_layer(env_of({{"RUSTYOLO_AUDIT_SINKS", "syslog"}}));
    ConfigLayer cli;
    cli.source = Source::cli;
    cli.audit_syslog_socket = "/c";
    const Config config = merge({default_layer(), user, env, cli});
    EXPECT_EQ(config.audit_sinks, Strings{"syslog"});
    EXPECT_EQ(config.audit_syslog_socket, "/c");
}

// --- trust ---------------------------------------------------------------------------------------

Config base() { return merge({default_layer()}); }

ConfigLayer project(const std::string &text) { return toml(text, Source::project_file); }

TEST(AuditTrust, ProjectMayAddASink) {
    EXPECT_TRUE(widening_changes(project("[security]\naudit_sinks = \"file syslog\"\n"), base()).empty());
}

TEST(AuditTrust, ProjectRepeatingTheSinksWidensNothing) {
    EXPECT_TRUE(widening_changes(project("[security]\naudit_sinks = \"audit-file\"\n"), base()).empty());
}

TEST(AuditTrust, ProjectDroppingASinkWidens) {
    EXPECT_THAT(widening_changes(project("[security]\naudit_sinks = \"syslog\"\n"), base()),
                ElementsAre(HasSubstr("[security] audit_sinks = \"syslog\" drops the audit sink \"file\"")));
}

TEST(AuditTrust, ProjectDroppingTheUsersSecondSinkWidens) {
    const Config user = merge({default_layer(), toml("[security]\naudit_sinks = \"file syslog\"\n")});
    EXPECT_THAT(widening_changes(project("[security]\naudit_sinks = \"file\"\n"), user),
                ElementsAre(HasSubstr("drops the audit sink \"syslog\"")));
}

TEST(AuditTrust, ProjectMovingTheSyslogSocketWidens) {
    EXPECT_THAT(widening_changes(project("[security]\naudit_syslog_socket = \"/tmp/x\"\n"), base()),
                ElementsAre(HasSubstr("[security] audit_syslog_socket = \"/tmp/x\" replaces the current /dev/log")));
}

TEST(AuditTrust, ProjectMovingTheAuditDirWidens) {
    EXPECT_THAT(widening_changes(project("[security]\naudit_dir = \"/tmp/x\"\n"), base()),
                ElementsAre(HasSubstr("[security] audit_dir = \"/tmp/x\" replaces the current default directory")));
}

TEST(AuditTrust, ProjectRepeatingTheSocketWidensNothing) {
    EXPECT_TRUE(widening_changes(project("[security]\naudit_syslog_socket = \"/dev/log\"\n"), base()).empty());
}

// --- audit_max_bytes -----------------------------------------------------------------------------

TEST(AuditMaxBytes, SizesWithBinarySuffixes) {
    EXPECT_EQ(parse_audit_max_bytes("65536", "x"), 65536u);
    EXPECT_EQ(parse_audit_max_bytes("64k", "x"), 65536u);
    EXPECT_EQ(parse_audit_max_bytes("64m", "x"), 64u * 1024 * 1024);
    EXPECT_EQ(parse_audit_max_bytes("64MiB", "x"), 64u * 1024 * 1024);
    EXPECT_EQ(parse_audit_max_bytes("2G", "x"), 2ull * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_audit_max_bytes("1024g", "x"), 1024ull * 1024 * 1024 * 1024);
}

TEST(AuditMaxBytes, AnythingElseIsRefusedNamingTheSourceAndValue) {
    for (const std::string bad : {"0", "-1", "1e12", "4g;x", "", "64 m", " 64m", "1.5m", "65535", "1025g",
                                  "99999999999999999999", "64t", "m", "0x10000"}) {
        try {
            parse_audit_max_bytes(bad, "--audit-max-bytes");
            FAIL() << "accepted " << bad;
        } catch (const UsageError &e) {
            EXPECT_THAT(e.what(), HasSubstr("--audit-max-bytes: audit_max_bytes \"" + bad + "\""));
            EXPECT_THAT(e.what(), HasSubstr("e.g. 64m"));
        }
    }
}

TEST(AuditMaxBytes, DefaultIs64MiBAndEverySourceSetsIt) {
    EXPECT_EQ(base().audit_max_bytes, 64u * 1024 * 1024);
    EXPECT_EQ(toml("[security]\naudit_max_bytes = \"1g\"\n").audit_max_bytes, 1024ull * 1024 * 1024);
    EXPECT_EQ(toml("[security]\naudit_max_bytes = 1048576\n").audit_max_bytes, 1048576u);
    EXPECT_EQ(environment_layer(env_of({{"RUSTYOLO_AUDIT_MAX_BYTES", "512k"}})).audit_max_bytes, 524288u);
    EXPECT_FALSE(environment_layer(env_of({})).audit_max_bytes.has_value());
    try {
        toml("[security]\naudit_max_bytes = \"4g;x\"\n");
        FAIL();
    } catch (const UsageError &e) {
        EXPECT_THAT(e.what(), HasSubstr("/u/config.toml:2: [security] audit_max_bytes: audit_max_bytes \"4g;x\""));
    }
    EXPECT_THROW(toml("[security]\naudit_max_bytes = 1.5\n"), UsageError);
    EXPECT_THROW(environment_layer(env_of({{"RUSTYOLO_AUDIT_MAX_BYTES", "0"}})), UsageError);
}

TEST(AuditMaxBytes, ProjectMayRaiseButNotLowerTheCap) {
    EXPECT_TRUE(widening_changes(project("[security]\naudit_max_bytes = \"1g\"\n"), base()).empty());
    EXPECT_THAT(widening_changes(project("[security]\naudit_max_bytes = \"64k\"\n"), base()),
                ElementsAre(HasSubstr("[security] audit_max_bytes = 65536 is lower than the current 67108864")));
}

}  // namespace
}  // namespace rustyolo
