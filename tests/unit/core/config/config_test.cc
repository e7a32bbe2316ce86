// Defaults, layer precedence and list merging of the one config model.
#include "core/config/config.hpp"

#include <gtest/gtest.h>

namespace rustyolo {
namespace {

ConfigLayer layer(Source source, std::string origin) {
    ConfigLayer l;
    l.source = source;
    l.origin = std::move(origin);
    return l;
}

ConfigLayer with_memory(Source source, std::string memory) {
    auto l = layer(source, to_string(source));
    l.memory = std::move(memory);
    return l;
}

TEST(ConfigDefaults, DefaultLayerHasTheSeedDefaults) {
    const auto config = merge({default_layer()});
    EXPECT_EQ(config.agent, "claude");
    EXPECT_EQ(config.memory, "4g");
    EXPECT_EQ(config.cpus, "4");
    EXPECT_EQ(config.pids_limit, "256");
    EXPECT_EQ(config.audit_log, "basic");
    EXPECT_EQ(config.seccomp_profile, "default");
    EXPECT_EQ(config.runtime, "");  // the runtime plugin names the default
    EXPECT_EQ(config.firewall, "nftables");
    EXPECT_EQ(config.image, "rustyolo:latest");
    EXPECT_EQ(config.auth_home, "~/.config/rustyolo");
    EXPECT_FALSE(config.allow_lan);
}

TEST(ConfigDefaults, DefaultsAllowNoDomainsMountNothingAndKeepTheEngineResolvers) {
    const auto config = merge({default_layer()});
    EXPECT_TRUE(config.allow_domains.empty());
    EXPECT_TRUE(config.volumes.empty());
    EXPECT_TRUE(config.env.empty());
    EXPECT_TRUE(config.plugins.empty());
    EXPECT_TRUE(config.dns_servers.empty());
    EXPECT_TRUE(config.network.empty());
    EXPECT_FALSE(config.inject_message.has_value());
}

TEST(ConfigDefaults, DefaultLayerIsMarkedAsDefaults) {
    const auto defaults = default_layer();
    EXPECT_EQ(defaults.source, Source::defaults);
    EXPECT_EQ(defaults.origin, "defaults");
}

TEST(ConfigSource, EverySourceHasAHumanName) {
    EXPECT_STREQ(to_string(Source::defaults), "defaults");
    EXPECT_STREQ(to_string(Source::user_file), "user config");
    EXPECT_STREQ(to_string(Source::project_file), "project config");
    EXPECT_STREQ(to_string(Source::environment), "environment");
    EXPECT_STREQ(to_string(Source::cli), "command line");
}

TEST(ConfigMerge, UserFileOverridesDefaults) {
    EXPECT_EQ(merge({default_layer(), with_memory(Source::user_file, "5g")}).memory, "5g");
}

TEST(ConfigMerge, ProjectFileOverridesUserFile) {
    const auto config = merge({default_layer(), with_memory(Source::user_file, "5g"),
                               with_memory(Source::project_file, "3g")});
    EXPECT_EQ(config.memory, "3g");
}

TEST(ConfigMerge, EnvironmentOverridesProjectFile) {
    const auto config = merge({default_layer(), with_memory(Source::user_file, "5g"),
                               with_memory(Source::project_file, "3g"), with_memory(Source::environment, "2g")});
    EXPECT_EQ(config.memory, "2g");
}

TEST(ConfigMerge, CommandLineOverridesEveryOtherLayer) {
    const auto config = merge({default_layer(), with_memory(Source::user_file, "5g"),
                               with_memory(Source::project_file, "3g"), with_memory(Source::environment, "2g"),
                               with_memory(Source::cli, "1g")});
    EXPECT_EQ(config.memory, "1g");
}

TEST(ConfigMerge, LayerThatSaysNothingKeepsTheEarlierValue) {
    const auto config = merge({default_layer(), with_memory(Source::user_file, "5g"),
                               layer(Source::project_file, "p"), layer(Source::environment, "environment"),
                               layer(Source::cli, "command line")});
    EXPECT_EQ(config.memory, "5g");
    EXPECT_EQ(config.agent, "claude");
}

TEST(ConfigMerge, EveryScalarIsOverriddenByALaterLayer) {
    auto later = layer(Source::cli, "command line");
    later.auth_home = "/a";
    later.image = "img:1";
    later.agent = "codex";
    later.cpus = "2";
    later.pids_limit = "100";
    later.seccomp_profile = "none";
    later.audit_log = "verbose";
    later.inject_message = "hello";
    later.network = "net";
    later.allow_lan = true;
    later.runtime = "podman";
    later.firewall = "iptables";
    const auto config = merge({default_layer(), later});
    EXPECT_EQ(config.auth_home, "/a");
    EXPECT_EQ(config.image, "img:1");
    EXPECT_EQ(config.agent, "codex");
    EXPECT_EQ(config.cpus, "2");
    EXPECT_EQ(config.pids_limit, "100");
    EXPECT_EQ(config.seccomp_profile, "none");
    EXPECT_EQ(config.audit_log, "verbose");
    EXPECT_EQ(config.inject_message, "hello");
    EXPECT_EQ(config.network, "net");
    EXPECT_TRUE(config.allow_lan);
    EXPECT_EQ(config.runtime, "podman");
    EXPECT_EQ(config.firewall, "iptables");
}

TEST(ConfigMerge, AllowLanFalseInALaterLayerOverridesTrue) {
    auto user = layer(Source::user_file, "u");
    user.allow_lan = true;
    auto cli = layer(Source::cli, "command line");
    cli.allow_lan = false;
    EXPECT_FALSE(merge({default_layer(), user, cli}).allow_lan);
}

TEST(ConfigMerge, VolumesEnvAndPluginsConcatenateInLayerOrder) {
    auto user = layer(Source::user_file, "u");
    user.volumes = {"/a:/a"};
    user.env = {"A=1"};
    user.plugins = {"/p/one.so"};
    auto cli = layer(Source::cli, "command line");
    cli.volumes = {"/b:/b:ro"};
    cli.env = {"B"};
    cli.plugins = {"/p/two.so"};
    const auto config = merge({default_layer(), user, cli});
    EXPECT_EQ(config.volumes, (std::vector<std::string>{"/a:/a", "/b:/b:ro"}));
    EXPECT_EQ(config.env, (std::vector<std::string>{"A=1", "B"}));
    EXPECT_EQ(config.plugins, (std::vector<std::string>{"/p/one.so", "/p/two.so"}));
}

TEST(ConfigMerge, AllowDomainsAreTheUnionInFirstSeenOrder) {
    auto user = layer(Source::user_file, "u");
    user.allow_domains = std::vector<std::string>{"github.com", "pypi.org"};
    auto env = layer(Source::environment, "environment");
    env.allow_domains = std::vector<std::string>{"npmjs.org", "github.com"};
    const auto config = merge({default_layer(), user, env});
    EXPECT_EQ(config.allow_domains, (std::vector<std::string>{"github.com", "pypi.org", "npmjs.org"}));
}

TEST(ConfigMerge, AllowDomainsDeduplicateCaseInsensitivelyKeepingTheFirstSpelling) {
    auto user = layer(Source::user_file, "u");
    user.allow_domains = std::vector<std::string>{"GitHub.com", "github.COM"};
    auto cli = layer(Source::cli, "command line");
    cli.allow_domains = std::vector<std::string>{"github.com"};
    EXPECT_EQ(merge({user, cli}).allow_domains, (std::vector<std::string>{"GitHub.com"}));
}

TEST(ConfigMerge, DnsServersOfALaterLayerReplaceEarlierOnes) {
    auto user = layer(Source::user_file, "u");
    user.dns_servers = std::vector<std::string>{"8.8.8.8", "1.1.1.1"};
    auto cli = layer(Source::cli, "command line");
    cli.dns_servers = std::vector<std::string>{"9.9.9.9"};
    EXPECT_EQ(merge({user, cli}).dns_servers, (std::vector<std::string>{"9.9.9.9"}));
}

TEST(ConfigMerge, OriginsListEveryLayerInOrder) {
    const auto config = merge({default_layer(), layer(Source::user_file, "/home/u/.config/rustyolo/config.toml"),
                               layer(Source::project_file, "/p/.rustyolo.toml"),
                               layer(Source::environment, "environment"), layer(Source::cli, "command line")});
    EXPECT_EQ(config.origins,
              (std::vector<std::string>{"defaults", "/home/u/.config/rustyolo/config.toml", "/p/.rustyolo.toml",
                                        "environment", "command line"}));
}

TEST(ConfigMerge, LayerWithoutOriginIsListedBySourceName) {
    EXPECT_EQ(merge({layer(Source::cli, "")}).origins, (std::vector<std::string>{"command line"}));
}

}  // namespace
}  // namespace rustyolo
