// Project config trust: a project config may only narrow the policy unless its content is trusted.
#include "core/config/trust.hpp"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "core/error.hpp"

namespace rustyolo {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;

// The config without the project: defaults plus a user file allowing a few domains.
Config base_config() {
    ConfigLayer user;
    user.source = Source::user_file;
    user.origin = "/home/u/.config/rustyolo/config.toml";
    user.allow_domains = Strings{"github.com", "pypi.org", "*.npmjs.org", "api.example.com:8443"};
    return merge({default_layer(), user});
}

ConfigLayer project() {
    ConfigLayer layer;
    layer.source = Source::project_file;
    layer.origin = "/p/.rustyolo.toml";
    return layer;
}

Strings changes_for(const ConfigLayer &layer) { return widening_changes(layer, base_config()); }

// --- widening: each kind is detected and named ------------------------------------------------

TEST(TrustWidening, EmptyProjectWidensNothing) { EXPECT_TRUE(changes_for(project()).empty()); }

TEST(TrustWidening, AnyVolumeWidens) {
    auto p = project();
    p.volumes = {"~/.ssh:/home/agent/.ssh:ro"};
    EXPECT_THAT(changes_for(p), ElementsAre("[default] volumes adds the mount \"~/.ssh:/home/agent/.ssh:ro\""));
}

TEST(TrustWidening, AnyEnvEntryWidens) {
    auto p = project();
    p.env = {"AWS_SECRET_ACCESS_KEY"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[default] env passes \"AWS_SECRET_ACCESS_KEY\"")));
}

TEST(TrustWidening, DifferentImageWidens) {
    auto p = project();
    p.image = "evil:latest";
    EXPECT_THAT(changes_for(p),
                ElementsAre(HasSubstr("[default] image = \"evil:latest\" replaces the current rustyolo:latest")));
}

TEST(TrustWidening, DifferentAuthHomeWidens) {
    auto p = project();
    p.auth_home = "~";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[default] auth_home = \"~\" replaces the current "
                                                      "~/.config/rustyolo")));
}

TEST(TrustWidening, DifferentAgentWidens) {
    auto p = project();
    p.agent = "codex";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[default] agent = \"codex\" replaces the current claude")));
}

TEST(TrustWidening, DifferentSeccompProfileWidens) {
    auto p = project();
    p.seccomp_profile = "none";
    EXPECT_THAT(changes_for(p),
                ElementsAre(HasSubstr("[security] seccomp_profile = \"none\" replaces the current default")));
}

TEST(TrustWidening, DnsServersAnyWidens) {
    auto p = project();
    p.dns_servers = Strings{"any"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[security] dns_servers = \"any\" turns off DNS name "
                                                      "filtering")));
}

TEST(TrustWidening, DnsServersDifferentFromTheBaseWiden) {
    auto p = project();
    p.dns_servers = Strings{"8.8.8.8"};
    EXPECT_THAT(changes_for(p), ElementsAre("[security] dns_servers = \"8.8.8.8\" replaces the current "
                                            "resolvers (the engine's own)"));
}

TEST(TrustWidening, LowerAuditLogWidens) {
    auto p = project();
    p.audit_log = "none";
    EXPECT_THAT(changes_for(p), ElementsAre("[security] audit_log = \"none\" is lower than the current basic"));
}

TEST(TrustWidening, UnknownAuditLogCountsAsWidening) {
    auto p = project();
    p.audit_log = "quiet";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("could not be compared with the current basic")));
}

TEST(TrustWidening, HigherMemoryWidens) {
    auto p = project();
    p.memory = "16g";
    EXPECT_THAT(changes_for(p), ElementsAre("[resources] memory = \"16g\" is higher than the current 4g"));
}

TEST(TrustWidening, MemoryInSmallerUnitsButLargerAmountWidens) {
    auto p = project();
    p.memory = "5000m";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("is higher than the current 4g")));
}

TEST(TrustWidening, UnlimitedMemoryWidens) {
    auto p = project();
    p.memory = "unlimited";
    EXPECT_THAT(changes_for(p),
                ElementsAre("[resources] memory = \"unlimited\" means no limit, higher than the current 4g"));
}

TEST(TrustWidening, HigherCpusWiden) {
    auto p = project();
    p.cpus = "4.5";
    EXPECT_THAT(changes_for(p), ElementsAre("[resources] cpus = \"4.5\" is higher than the current 4"));
}

TEST(TrustWidening, HigherPidsLimitWidens) {
    auto p = project();
    p.pids_limit = "100000";
    EXPECT_THAT(changes_for(p), ElementsAre("[resources] pids_limit = \"100000\" is higher than the current 256"));
}

TEST(TrustWidening, ZeroPidsLimitMeansNoLimitAndWidens) {
    auto p = project();
    p.pids_limit = "0";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("means no limit")));
}

TEST(TrustWidening, NegativePidsLimitMeansNoLimitAndWidens) {
    auto p = project();
    p.pids_limit = "-1";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("means no limit")));
}

TEST(TrustWidening, UnparseableMemoryCountsAsWidening) {
    auto p = project();
    p.memory = "4g;x";
    EXPECT_THAT(changes_for(p), ElementsAre("[resources] memory = \"4g;x\" could not be compared with the "
                                            "current 4g, so it counts as a widening"));
}

TEST(TrustWidening, ExponentCpusCountsAsWidening) {
    auto p = project();
    p.cpus = "1e12";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("could not be compared")));
}

TEST(TrustWidening, NewDomainWidens) {
    auto p = project();
    p.allow_domains = Strings{"github.com", "evil.example"};
    EXPECT_THAT(changes_for(p), ElementsAre("[default] allow_domains adds \"evil.example\", which the current "
                                            "config does not allow"));
}

TEST(TrustWidening, NewPortOnAnAllowedDomainWidens) {
    auto p = project();
    p.allow_domains = Strings{"github.com:22"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("adds \"github.com:22\"")));
}

TEST(TrustWidening, WildcardWiderThanTheBaseEntryWidens) {
    auto p = project();
    p.allow_domains = Strings{"*.github.com"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("adds \"*.github.com\"")));
}

TEST(TrustWidening, ApexOfABaseWildcardWidens) {
    auto p = project();
    p.allow_domains = Strings{"npmjs.org"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("adds \"npmjs.org\"")));
}

TEST(TrustWidening, AllowLanWidens) {
    auto p = project();
    p.allow_lan = true;
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[network] allow_lan = true")));
}

TEST(TrustWidening, NetworkWidens) {
    auto p = project();
    p.network = "host";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[network] network = \"host\" replaces the current")));
}

TEST(TrustNarrowing, DnsServersEqualToTheBaseInAnotherOrderPass) {
    auto base = base_config();
    base.dns_servers = Strings{"1.1.1.1", "8.8.8.8"};
    auto p = project();
    p.dns_servers = Strings{"8.8.8.8", "1.1.1.1"};
    EXPECT_TRUE(widening_changes(p, base).empty());
}

TEST(TrustWidening, DifferentRuntimeWidens) {
    auto p = project();
    p.runtime = "podman";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[runtime] runtime = \"podman\" replaces the current default runtime")));
}

// The default runtime is the runtime plugin's, unknown before the plugins load: a project file that
// names any runtime the user's own config does not name needs trust.
TEST(TrustWidening, AnyRuntimeOverTheDefaultWidens) {
    auto p = project();
    p.runtime = "docker";
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("replaces the current default runtime")));
}

TEST(TrustWidening, DifferentFirewallWidens) {
    auto p = project();
    p.firewall = "iptables";
    EXPECT_THAT(changes_for(p),
                ElementsAre(HasSubstr("[network] firewall = \"iptables\" replaces the current nftables")));
}

TEST(TrustWidening, AnyPluginWidens) {
    auto p = project();
    p.plugins = {"./evil.so"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[runtime] plugins loads \"./evil.so\"")));
}

TEST(TrustWidening, AnyImagePackageWidens) {
    auto p = project();
    p.image_packages = {"postgresql-client"};
    EXPECT_THAT(changes_for(p), ElementsAre(HasSubstr("[image] packages adds the Debian package \"postgresql-client\"")));
}

TEST(TrustWidening, EveryWideningIsListed) {
    auto p = project();
    p.memory = "16g";
    p.volumes = {"/a:/a", "/b:/b"};
    p.allow_lan = true;
    EXPECT_EQ(changes_for(p).size(), 4u);
}

TEST(TrustWidening, ControlCharactersInValuesAreEscaped) {
    auto p = project();
    p.image = "x\x1b[2J";
    const auto changes = changes_for(p);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_THAT(changes[0], HasSubstr("\"x\\x1b[2J\""));
    EXPECT_EQ(changes[0].find('\x1b'), std::string::npos);
}

// --- narrowing: allowed without trust ---------------------------------------------------------

TEST(TrustNarrowing, FewerDomainsPass) {
    auto p = project();
    p.allow_domains = Strings{"GitHub.com."};
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, EmptyDomainListPasses) {
    auto p = project();
    p.allow_domains = Strings{};
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, SubdomainsCoveredByABaseWildcardPass) {
    auto p = project();
    p.allow_domains = Strings{"registry.npmjs.org", "*.cdn.npmjs.org"};
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, DefaultPortOfABaseDomainPasses) {
    auto p = project();
    p.allow_domains = Strings{"github.com:443", "api.example.com:8443"};
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, LowerLimitsPass) {
    auto p = project();
    p.memory = "512m";
    p.cpus = "1.5";
    p.pids_limit = "128";
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, EqualLimitsInOtherUnitsPass) {
    auto p = project();
    p.memory = "4096m";
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, StricterAuditPasses) {
    auto p = project();
    p.audit_log = "verbose";
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, ValuesEqualToTheBasePass) {
    auto p = project();
    p.agent = "claude";
    p.image = "rustyolo:latest";
    p.seccomp_profile = "default";
    p.firewall = "nftables";
    p.allow_lan = false;
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, InjectMessagePasses) {
    auto p = project();
    p.inject_message = "Be careful";
    EXPECT_TRUE(changes_for(p).empty());
}

TEST(TrustNarrowing, AnyLimitPassesWhenTheBaseIsUnlimited) {
    auto base = base_config();
    base.pids_limit = "unlimited";
    auto p = project();
    p.pids_limit = "100000";
    EXPECT_TRUE(widening_changes(p, base).empty());
}

TEST(TrustNarrowing, ProjectDomainListReplacesTheUnion) {
    auto p = project();
    p.allow_domains = Strings{"pypi.org"};
    ConfigLayer user;
    user.allow_domains = Strings{"github.com", "pypi.org"};
    const auto merged = merge({default_layer(), user, p});
    EXPECT_EQ(apply_project_narrowing(merged, p).allow_domains, (Strings{"pypi.org"}));
}

TEST(TrustNarrowing, LaterLayersStillAddDomainsAfterNarrowing) {
    auto p = project();
    p.allow_domains = Strings{"pypi.org"};
    ConfigLayer user;
    user.allow_domains = Strings{"github.com", "pypi.org"};
    ConfigLayer cli;
    cli.source = Source::cli;
    cli.allow_domains = Strings{"example.org"};
    const auto merged = merge({default_layer(), user, p, cli});
    EXPECT_EQ(apply_project_narrowing(merged, p, {cli}).allow_domains, (Strings{"pypi.org", "example.org"}));
}

TEST(TrustNarrowing, ProjectWithoutDomainsLeavesTheMergedList) {
    ConfigLayer user;
    user.allow_domains = Strings{"github.com"};
    const auto merged = merge({default_layer(), user, project()});
    EXPECT_EQ(apply_project_narrowing(merged, project()).allow_domains, (Strings{"github.com"}));
}

// --- the refusal message ------------------------------------------------------------------------

TEST(TrustError, UntrustedProjectErrorListsChangesAndTheTrustCommand) {
    const auto message = untrusted_project_error(
        "/p/.rustyolo.toml", {"[default] image = \"x\" replaces the current rustyolo:latest"});
    EXPECT_THAT(message, HasSubstr("/p/.rustyolo.toml"));
    EXPECT_THAT(message, HasSubstr("  - [default] image = \"x\" replaces the current rustyolo:latest\n"));
    EXPECT_THAT(message, HasSubstr("run `rustyolo trust /p/.rustyolo.toml`"));
    EXPECT_THAT(message, HasSubstr("or remove those keys"));
}

TEST(TrustError, PathWithSpacesIsShellQuotedInTheTrustCommand) {
    const auto message = untrusted_project_error("/p/my project/.rustyolo.toml", {"x"});
    EXPECT_THAT(message, HasSubstr("`rustyolo trust '/p/my project/.rustyolo.toml'`"));
}

// --- the trust store ----------------------------------------------------------------------------

class TrustStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "rustyolo-trust-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        state_ = (root_ / "state" / "rustyolo").string();
    }
    void TearDown() override { std::filesystem::remove_all(root_); }

    static unsigned mode_of(const std::string &path) {
        struct stat info {};
        EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
        return info.st_mode & 07777;
    }

    std::filesystem::path root_;
    std::string state_;
};

TEST_F(TrustStoreTest, NothingIsTrustedWithoutAStore) {
    EXPECT_FALSE(TrustStore(state_).is_trusted("/p/.rustyolo.toml", "a = 1"));
}

TEST_F(TrustStoreTest, TrustedContentIsTrustedAfterwards) {
    TrustStore(state_).trust("/p/.rustyolo.toml", "[default]\nimage = \"x\"\n");
    EXPECT_TRUE(TrustStore(state_).is_trusted("/p/.rustyolo.toml", "[default]\nimage = \"x\"\n"));
}

TEST_F(TrustStoreTest, ChangedContentIsUntrusted) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "[default]\nimage = \"x\"\n");
    EXPECT_FALSE(store.is_trusted("/p/.rustyolo.toml", "[default]\nimage = \"y\"\n"));
}

TEST_F(TrustStoreTest, SameContentAtAnotherPathIsUntrusted) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "x");
    EXPECT_FALSE(store.is_trusted("/q/.rustyolo.toml", "x"));
}

TEST_F(TrustStoreTest, TrustingNewContentReplacesTheOldDecision) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "old");
    store.trust("/p/.rustyolo.toml", "new");
    EXPECT_FALSE(store.is_trusted("/p/.rustyolo.toml", "old"));
    EXPECT_TRUE(store.is_trusted("/p/.rustyolo.toml", "new"));
}

TEST_F(TrustStoreTest, TrustingOneFileKeepsTheOthers) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "p");
    store.trust("/q/.rustyolo.toml", "q");
    EXPECT_TRUE(store.is_trusted("/p/.rustyolo.toml", "p"));
    EXPECT_TRUE(store.is_trusted("/q/.rustyolo.toml", "q"));
}

TEST_F(TrustStoreTest, StoreFileIs0600AndItsDirectories0700) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "x");
    EXPECT_EQ(store.file(), state_ + "/trust.json");
    EXPECT_EQ(mode_of(store.file()), 0600u);
    EXPECT_EQ(mode_of(state_), 0700u);
    EXPECT_EQ(mode_of((root_ / "state").string()), 0700u);
}

TEST_F(TrustStoreTest, StoreHoldsTheSha256OfTheContent) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "abc");
    std::ifstream in(store.file());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(text, HasSubstr("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

TEST_F(TrustStoreTest, NoTemporaryFileIsLeftBehind) {
    TrustStore store(state_);
    store.trust("/p/.rustyolo.toml", "x");
    store.trust("/p/.rustyolo.toml", "y");
    const auto entries = std::distance(std::filesystem::directory_iterator(state_), {});
    EXPECT_EQ(entries, 1);
}

TEST_F(TrustStoreTest, CorruptStoreIsAnErrorNamingTheFile) {
    std::filesystem::create_directories(state_);
    std::ofstream(state_ + "/trust.json") << "{not json";
    try {
        TrustStore(state_).is_trusted("/p/.rustyolo.toml", "x");
        FAIL() << "expected an Error";
    } catch (const Error &error) {
        EXPECT_THAT(error.what(), HasSubstr(state_ + "/trust.json"));
    }
}

TEST(TrustSha256, MatchesTheKnownDigestOfAbc) {
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace rustyolo
