// The environment as a config layer, and the XDG locations.
#include "core/config/config_env.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/error.hpp"

namespace rustyolo {
namespace {

// A fake environment: only the variables given are set.
GetenvFn env_of(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char *name) -> const char * {
        const auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

using Strings = std::vector<std::string>;

TEST(ConfigEnv, EmptyEnvironmentSaysNothing) {
    const auto layer = environment_layer(env_of({}));
    EXPECT_FALSE(layer.allow_domains.has_value());
    EXPECT_FALSE(layer.image.has_value());
    EXPECT_FALSE(layer.memory.has_value());
    EXPECT_FALSE(layer.dns_servers.has_value());
    EXPECT_FALSE(layer.auth_home.has_value());
}

TEST(ConfigEnv, LayerIsMarkedAsEnvironment) {
    const auto layer = environment_layer(env_of({}));
    EXPECT_EQ(layer.source, Source::environment);
    EXPECT_EQ(layer.origin, "environment");
}

TEST(ConfigEnv, TrustedDomainsSplitsOnWhitespace) {
    const auto layer = environment_layer(env_of({{"TRUSTED_DOMAINS", " github.com  pypi.org\t*.npmjs.org "}}));
    EXPECT_EQ(layer.allow_domains, (Strings{"github.com", "pypi.org", "*.npmjs.org"}));
}

TEST(ConfigEnv, DnsServersSplitsOnWhitespace) {
    const auto layer = environment_layer(env_of({{"RUSTYOLO_DNS_SERVERS", "8.8.8.8 1.1.1.1"}}));
    EXPECT_EQ(layer.dns_servers, (Strings{"8.8.8.8", "1.1.1.1"}));
}

TEST(ConfigEnv, EachRustyoloVariableSetsItsField) {
    const auto layer = environment_layer(env_of({{"RUSTYOLO_IMAGE", "img:2"},
                                                 {"RUSTYOLO_AGENT", "codex"},
                                                 {"RUSTYOLO_MEMORY", "2g"},
                                                 {"RUSTYOLO_CPUS", "1.5"},
                                                 {"RUSTYOLO_PIDS_LIMIT", "100"},
                                                 {"RUSTYOLO_AUDIT_LOG", "verbose"},
                                                 {"RUSTYOLO_NETWORK", "testnet"},
                                                 {"RUSTYOLO_RUNTIME", "podman"},
                                                 {"RUSTYOLO_AUTH_HOME", "/auth"}}));
    EXPECT_EQ(layer.image, "img:2");
    EXPECT_EQ(layer.agent, "codex");
    EXPECT_EQ(layer.memory, "2g");
    EXPECT_EQ(layer.cpus, "1.5");
    EXPECT_EQ(layer.pids_limit, "100");
    EXPECT_EQ(layer.audit_log, "verbose");
    EXPECT_EQ(layer.network, "testnet");
    EXPECT_EQ(layer.runtime, "podman");
    EXPECT_EQ(layer.auth_home, "/auth");
}

TEST(ConfigEnv, EmptyValuesAreIgnored) {
    const auto layer = environment_layer(
        env_of({{"TRUSTED_DOMAINS", ""}, {"RUSTYOLO_IMAGE", ""}, {"RUSTYOLO_MEMORY", ""}}));
    EXPECT_FALSE(layer.allow_domains.has_value());
    EXPECT_FALSE(layer.image.has_value());
    EXPECT_FALSE(layer.memory.has_value());
}

TEST(ConfigEnv, BlankDomainListIsIgnored) {
    EXPECT_FALSE(environment_layer(env_of({{"TRUSTED_DOMAINS", "   "}})).allow_domains.has_value());
}

TEST(ConfigEnv, UserConfigPathPrefersXdgConfigHome) {
    EXPECT_EQ(user_config_path(env_of({{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/home/u"}})),
              "/xdg/rustyolo/config.toml");
}

TEST(ConfigEnv, UserConfigPathFallsBackToHome) {
    EXPECT_EQ(user_config_path(env_of({{"HOME", "/home/u"}})), "/home/u/.config/rustyolo/config.toml");
}

TEST(ConfigEnv, UserConfigPathIgnoresARelativeXdgConfigHome) {
    EXPECT_EQ(user_config_path(env_of({{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/home/u"}})),
              "/home/u/.config/rustyolo/config.toml");
}

TEST(ConfigEnv, UserConfigPathIsEmptyWithoutHomeOrXdg) {
    EXPECT_EQ(user_config_path(env_of({})), "");
}

TEST(ConfigEnv, StateDirPrefersXdgStateHome) {
    EXPECT_EQ(state_dir(env_of({{"XDG_STATE_HOME", "/state"}, {"HOME", "/home/u"}})), "/state/rustyolo");
}

TEST(ConfigEnv, StateDirFallsBackToHome) {
    EXPECT_EQ(state_dir(env_of({{"HOME", "/home/u"}, {"XDG_STATE_HOME", ""}})), "/home/u/.local/state/rustyolo");
}

TEST(ConfigEnv, StateDirWithoutHomeOrXdgIsAUsageError) {
    EXPECT_THROW(state_dir(env_of({})), UsageError);
}

}  // namespace
}  // namespace rustyolo
