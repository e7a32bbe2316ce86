// Where the audit records go by default, and a configured directory.
#include "plugins/audit-file/log_paths.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <stdexcept>

namespace rustyolo::audit_file {
namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char *name) -> const char * {
        const auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

TEST(AuditPaths, DefaultIsUnderXdgStateHome) {
    EXPECT_EQ(audit_directory(env_of({{"XDG_STATE_HOME", "/s"}, {"HOME", "/h"}})), "/s/rustyolo/audit");
}

TEST(AuditPaths, WithoutXdgStateHomeItIsUnderHome) {
    EXPECT_EQ(audit_directory(env_of({{"HOME", "/h"}})), "/h/.local/state/rustyolo/audit");
}

TEST(AuditPaths, RelativeXdgStateHomeIsIgnored) {
    EXPECT_EQ(audit_directory(env_of({{"XDG_STATE_HOME", "rel"}, {"HOME", "/h"}})), "/h/.local/state/rustyolo/audit");
}

TEST(AuditPaths, ConfiguredDirectoryWinsAndExpandsTilde) {
    const auto env = env_of({{"XDG_STATE_HOME", "/s"}, {"HOME", "/h"}});
    EXPECT_EQ(audit_directory(env, ""), "/s/rustyolo/audit");
    EXPECT_EQ(audit_directory(env, "/var/audit"), "/var/audit");
    EXPECT_EQ(audit_directory(env, "~/audit"), "/h/audit");
}

TEST(AuditPaths, RelativeConfiguredDirectoryIsRejected) {
    EXPECT_THROW(audit_directory(env_of({{"HOME", "/h"}}), "audit"), std::invalid_argument);
}

}  // namespace
}  // namespace rustyolo::audit_file
