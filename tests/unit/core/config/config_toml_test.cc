// Loading TOML config files: the seed's format, rustyolo's additions, and the errors.
#include "core/config/config_toml.hpp"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace rustyolo {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char *kSeedExample = R"([default]
allow_domains = "github.com pypi.org"
volumes = ["~/.ssh:/home/agent/.ssh:ro", "~/.gitconfig:/home/agent/.gitconfig:ro"]
env = ["MY_VAR=value", "ANOTHER=var"]
auth_home = "~/.config/rustyolo"
image = "my-custom-image:latest"
agent = "claude"

[resources]
memory = "8g"
cpus = "6"
pids_limit = "512"

[security]
seccomp_profile = "./seccomp/custom.json"
dns_servers = "8.8.8.8 1.1.1.1"
audit_log = "verbose"
inject_message = "You are in a restricted environment"
)";

ConfigLayer parse(std::string_view text) {
    return parse_config_text(text, "~/p/.rustyolo.toml", Source::project_file);
}

// The UsageError message for `text`, or "" when it parses.
std::string error_of(std::string_view text) {
    try {
        parse(text);
    } catch (const UsageError &error) {
        return error.what();
    }
    return "";
}

using Strings = std::vector<std::string>;

TEST(ConfigToml, SeedExampleFileLoadsEveryKey) {
    const auto layer = parse(kSeedExample);
    EXPECT_EQ(layer.allow_domains, (Strings{"github.com", "pypi.org"}));
    EXPECT_EQ(layer.volumes, (Strings{"~/.ssh:/home/agent/.ssh:ro", "~/.gitconfig:/home/agent/.gitconfig:ro"}));
    EXPECT_EQ(layer.env, (Strings{"MY_VAR=value", "ANOTHER=var"}));
    EXPECT_EQ(layer.auth_home, "~/.config/rustyolo");
    EXPECT_EQ(layer.image, "my-custom-image:latest");
    EXPECT_EQ(layer.agent, "claude");
    EXPECT_EQ(layer.memory, "8g");
    EXPECT_EQ(layer.cpus, "6");
    EXPECT_EQ(layer.pids_limit, "512");
    EXPECT_EQ(layer.seccomp_profile, "./seccomp/custom.json");
    EXPECT_EQ(layer.dns_servers, (Strings{"8.8.8.8", "1.1.1.1"}));
    EXPECT_EQ(layer.audit_log, "verbose");
    EXPECT_EQ(layer.inject_message, "You are in a restricted environment");
}

TEST(ConfigToml, SeedExampleFileSetsNoRustyoloAdditions) {
    const auto layer = parse(kSeedExample);
    EXPECT_FALSE(layer.network.has_value());
    EXPECT_FALSE(layer.allow_lan.has_value());
    EXPECT_FALSE(layer.runtime.has_value());
    EXPECT_FALSE(layer.firewall.has_value());
    EXPECT_TRUE(layer.plugins.empty());
}

TEST(ConfigToml, ImagePackagesAreDebianPackageNames) {
    const auto layer = parse("[image]\npackages = [\"postgresql-client\", \"g++\", \"libssl3\"]\n");
    EXPECT_EQ(layer.image_packages, (Strings{"postgresql-client", "g++", "libssl3"}));
    for (const char *bad : {"Foo", "x", "-x", "pkg=1.0", "a b", "pkg;rm"}) {
        const std::string message = error_of(std::string("[image]\npackages = [\"jq\", \"") + bad + "\"]\n");
        EXPECT_THAT(message, HasSubstr("'packages' in [image] names \"" + std::string(bad) +
                                       "\", which is not a Debian package name"))
            << bad;
    }
    EXPECT_THAT(error_of("[image]\npackages = \"jq\"\n"), HasSubstr("must be an array of strings"));
}

TEST(ConfigToml, LayerRecordsItsOriginAndSource) {
    const auto layer = parse_config_text("", "/home/u/.config/rustyolo/config.toml", Source::user_file);
    EXPECT_EQ(layer.origin, "/home/u/.config/rustyolo/config.toml");
    EXPECT_EQ(layer.source, Source::user_file);
}

TEST(ConfigToml, EmptyFileSaysNothing) {
    const auto layer = parse("");
    EXPECT_FALSE(layer.allow_domains.has_value());
    EXPECT_FALSE(layer.memory.has_value());
    EXPECT_FALSE(layer.agent.has_value());
    EXPECT_FALSE(layer.inject_message.has_value());
    EXPECT_TRUE(layer.volumes.empty());
}

TEST(ConfigToml, EmptyTablesSayNothing) {
    const auto layer = parse("[default]\n[resources]\n[security]\n[network]\n[runtime]\n");
    EXPECT_FALSE(layer.allow_domains.has_value());
    EXPECT_FALSE(layer.memory.has_value());
    EXPECT_FALSE(layer.allow_lan.has_value());
}

TEST(ConfigToml, UnknownKeyNamesFileLineKeyAndKnownKeys) {
    EXPECT_EQ(error_of("[default]\nagent = \"claude\"\n\n[resources]\nmemory = \"4g\"\n\npids = 10\n"),
              "~/p/.rustyolo.toml:7: unknown key 'pids' in [resources] (known: memory, cpus, pids_limit, tmp_size, home_size)");
}

TEST(ConfigToml, UnknownTableNamesFileLineAndKnownTables) {
    EXPECT_EQ(error_of("[default]\n\n[limits]\nmemory = \"4g\"\n"),
              "~/p/.rustyolo.toml:3: unknown table [limits] (known: [default], [resources], [security], "
              "[network], [runtime], [image])");
}

TEST(ConfigToml, KeyOutsideAnyTableIsRejected) {
    EXPECT_THAT(error_of("memory = \"4g\"\n"),
                StartsWith("~/p/.rustyolo.toml:1: key 'memory' must be inside one of the tables"));
}

TEST(ConfigToml, KnownTableNameGivenAsValueIsRejected) {
    EXPECT_THAT(error_of("default = \"x\"\n"),
                StartsWith("~/p/.rustyolo.toml:1: 'default' must be a table ([default]), not a string"));
}

TEST(ConfigToml, WrongTypeNamesLineKeyTableAndBothTypes) {
    EXPECT_EQ(error_of("[resources]\nmemory = 4\n"),
              "~/p/.rustyolo.toml:2: 'memory' in [resources] must be a string, not an integer");
}

TEST(ConfigToml, ArrayOfStringsWithANonStringElementIsRejected) {
    EXPECT_EQ(error_of("[default]\nvolumes = [\"/a:/a\", 3]\n"),
              "~/p/.rustyolo.toml:2: 'volumes' in [default] must be an array of strings, but element 2 is an "
              "integer");
}

TEST(ConfigToml, VolumesGivenAsStringIsRejected) {
    EXPECT_THAT(error_of("[default]\nvolumes = \"/a:/a\"\n"),
                HasSubstr("'volumes' in [default] must be an array of strings, not a string"));
}

TEST(ConfigToml, AllowLanMustBeABoolean) {
    EXPECT_THAT(error_of("[network]\nallow_lan = \"yes\"\n"),
                HasSubstr(":2: 'allow_lan' in [network] must be a boolean (true or false), not a string"));
}

TEST(ConfigToml, SyntaxErrorNamesFileLineAndColumn) {
    const auto message = error_of("[default]\nimage = \n");
    EXPECT_THAT(message, StartsWith("~/p/.rustyolo.toml:2:"));
    EXPECT_THAT(message, HasSubstr("TOML syntax error: "));
}

TEST(ConfigToml, DuplicateKeyIsASyntaxError) {
    EXPECT_THAT(error_of("[default]\nagent = \"a\"\nagent = \"b\"\n"),
                StartsWith("~/p/.rustyolo.toml:3:"));
}

TEST(ConfigToml, IntegerPidsLimitBecomesItsString) {
    EXPECT_EQ(parse("[resources]\npids_limit = 256\n").pids_limit, "256");
}

TEST(ConfigToml, IntegerCpusBecomesItsString) {
    EXPECT_EQ(parse("[resources]\ncpus = 6\n").cpus, "6");
}

TEST(ConfigToml, FloatCpusBecomesItsShortestString) {
    EXPECT_EQ(parse("[resources]\ncpus = 1.5\n").cpus, "1.5");
}

TEST(ConfigToml, BooleanCpusIsRejected) {
    EXPECT_THAT(error_of("[resources]\ncpus = true\n"),
                HasSubstr("'cpus' in [resources] must be a string or a number, not a boolean"));
}

TEST(ConfigToml, AllowDomainsMayBeAnArrayOfStrings) {
    EXPECT_EQ(parse("[default]\nallow_domains = [\"github.com\", \"*.npmjs.org\"]\n").allow_domains,
              (Strings{"github.com", "*.npmjs.org"}));
}

TEST(ConfigToml, AllowDomainsStringSplitsOnAnyWhitespace) {
    EXPECT_EQ(parse("[default]\nallow_domains = \"  a.com\\tb.com\\n c.com \"\n").allow_domains,
              (Strings{"a.com", "b.com", "c.com"}));
}

TEST(ConfigToml, EmptyAllowDomainsStringIsAnEmptyList) {
    const auto layer = parse("[default]\nallow_domains = \"\"\n");
    ASSERT_TRUE(layer.allow_domains.has_value());
    EXPECT_TRUE(layer.allow_domains->empty());
}

TEST(ConfigToml, NetworkAndRuntimeTablesLoad) {
    const auto layer = parse(
        "[network]\nnetwork = \"testnet\"\nallow_lan = true\nfirewall = \"iptables\"\n"
        "[runtime]\nruntime = \"podman\"\nplugins = [\"/opt/p/a.so\", \"b\"]\n");
    EXPECT_EQ(layer.network, "testnet");
    EXPECT_EQ(layer.allow_lan, true);
    EXPECT_EQ(layer.firewall, "iptables");
    EXPECT_EQ(layer.runtime, "podman");
    EXPECT_EQ(layer.plugins, (Strings{"/opt/p/a.so", "b"}));
}

TEST(ConfigToml, InlineTableIsReadLikeAStandardTable) {
    EXPECT_EQ(parse("resources = { memory = \"2g\" }\n").memory, "2g");
}

TEST(ConfigToml, ControlCharactersInAnUnknownKeyAreEscaped) {
    const auto message = error_of("[default]\n\"a\\u001b[31m\" = 1\n");
    EXPECT_THAT(message, HasSubstr("unknown key 'a\\x1b[31m'"));
    EXPECT_EQ(message.find('\x1b'), std::string::npos);
}

class ConfigTomlFile : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "rustyolo-config-toml-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string &name, std::string_view text) {
        const auto path = (dir_ / name).string();
        std::ofstream(path) << text;
        return path;
    }

    std::filesystem::path dir_;
};

TEST_F(ConfigTomlFile, LoadsTheFileAndNamesItAsOrigin) {
    const auto path = write(".rustyolo.toml", kSeedExample);
    const auto layer = load_config_file(path, Source::project_file);
    EXPECT_EQ(layer.origin, path);
    EXPECT_EQ(layer.memory, "8g");
}

TEST_F(ConfigTomlFile, ErrorsInAFileNameItsPath) {
    const auto path = write("config.toml", "[resources]\nmemory = 4\n");
    try {
        load_config_file(path, Source::user_file);
        FAIL() << "expected a UsageError";
    } catch (const UsageError &error) {
        EXPECT_THAT(error.what(), StartsWith(path + ":2: 'memory'"));
    }
}

TEST_F(ConfigTomlFile, MissingFileIsAnErrorNamingThePath) {
    const auto path = (dir_ / "absent.toml").string();
    try {
        load_config_file(path, Source::user_file);
        FAIL() << "expected an Error";
    } catch (const Error &error) {
        EXPECT_THAT(error.what(), HasSubstr(path));
        EXPECT_THAT(error.what(), HasSubstr("No such file"));
    }
}

}  // namespace
}  // namespace rustyolo
