#include "plugins/runtime-docker/resolv_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace rustyolo::docker {
namespace {

namespace fs = std::filesystem;
using Servers = std::vector<std::string>;

ReadFileFn host(std::map<std::string, std::string> files) {
    return [files](const std::string &path) -> std::optional<std::string> {
        auto it = files.find(path);
        if (it == files.end())
            return std::nullopt;
        return it->second;
    };
}

TEST(EngineNameservers, UserDefinedNetworksUseTheEnginesEmbeddedResolver) {
    EXPECT_EQ(engine_nameservers("mynet", host({})), Servers{"127.0.0.11"});
}

TEST(EngineNameservers, TheDefaultBridgeGetsTheHostsWithoutLoopbackAndIpv6) {
    auto read = host({{"/etc/resolv.conf", "# c\nsearch x\nnameserver 127.0.0.1\nnameserver 10.0.0.2\n"
                                           "nameserver fd00::1\nnameserver 10.0.0.3 # two\n"}});
    EXPECT_EQ(engine_nameservers("", read), (Servers{"10.0.0.2", "10.0.0.3"}));
    EXPECT_EQ(engine_nameservers("bridge", read), (Servers{"10.0.0.2", "10.0.0.3"}));
}

TEST(EngineNameservers, SystemdResolvedsStubIsReplacedByItsUpstreams) {
    auto read = host({{"/etc/resolv.conf", "nameserver 127.0.0.53\noptions edns0\n"},
                      {"/run/systemd/resolve/resolv.conf", "nameserver 192.168.1.1\n"}});
    EXPECT_EQ(engine_nameservers("", read), Servers{"192.168.1.1"});
}

TEST(EngineNameservers, NothingUsableLeftIsTheEnginesFallback) {
    EXPECT_EQ(engine_nameservers("", host({{"/etc/resolv.conf", "nameserver 127.0.0.1\n"}})),
              (Servers{"8.8.8.8", "8.8.4.4"}));
    EXPECT_EQ(engine_nameservers("", host({})), (Servers{"8.8.8.8", "8.8.4.4"}));
}

class SessionDir : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-resolv-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir = pattern;
    }
    void TearDown() override { fs::remove_all(dir); }
    std::string read(const fs::path &path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    fs::path dir;
};

TEST_F(SessionDir, WritesTheSandboxsResolvConfAndTheEnginesResolvers) {
    Plan plan;
    plan.network.engine_network = "testnet";
    ResolvFiles files = write_resolv_files(plan, dir.string(), false, host({}));
    EXPECT_EQ(files.sandbox, (dir / "resolv.conf").string());
    EXPECT_EQ(read(files.sandbox), kSandboxResolvConf);
    EXPECT_EQ(files.engine, (dir / "engine-resolv.conf").string());
    EXPECT_NE(read(files.engine).find("\nnameserver 127.0.0.11\n"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat(files.sandbox.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(SessionDir, PlanResolversMeanNoEngineFile) {
    Plan plan;
    plan.network.dns_servers = {"10.9.0.53"};
    ResolvFiles files = write_resolv_files(plan, dir.string(), false, host({}));
    EXPECT_TRUE(files.engine.empty());
    EXPECT_FALSE(fs::exists(dir / "engine-resolv.conf"));
}

TEST_F(SessionDir, NeverWritesOverAFileOrThroughASymlinkUnlessReused) {
    std::ofstream(dir / "elsewhere") << "untouched";
    fs::create_symlink(dir / "elsewhere", dir / "resolv.conf");
    Plan plan;
    EXPECT_THROW(write_resolv_files(plan, dir.string(), false, host({})), std::runtime_error);
    EXPECT_THROW(write_resolv_files(plan, dir.string(), true, host({})), std::runtime_error);
    EXPECT_EQ(read(dir / "elsewhere"), "untouched");
    fs::remove(dir / "resolv.conf");
    EXPECT_NO_THROW(write_resolv_files(plan, dir.string(), false, host({})));
    EXPECT_THROW(write_resolv_files(plan, dir.string(), false, host({})), std::runtime_error);
    EXPECT_NO_THROW(write_resolv_files(plan, dir.string(), true, host({})));  // a --dry-run's reused dir
    EXPECT_THROW(write_resolv_files(plan, "", false, host({})), std::invalid_argument);
}

}  // namespace
}  // namespace rustyolo::docker
