#include "entrypoint/agent_account.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rustyolo::entrypoint {
namespace {

namespace fs = std::filesystem;

constexpr const char *kPasswd = "root:x:0:0:root:/root:/bin/bash\n"
                                "# a comment\n"
                                "broken line without fields\n"
                                "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
                                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr const char *kGroup = "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n";

class EtcDir : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-etc-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir = pattern;
        write("passwd", kPasswd);
        write("group", kGroup);
        files.passwd = (dir / "passwd").string();
        files.group = (dir / "group").string();
        files.base_passwd.clear();  // added to in place
        files.base_group.clear();
    }
    void TearDown() override { fs::remove_all(dir); }
    void write(const std::string &name, const std::string &text) { std::ofstream(dir / name) << text; }
    std::string read(const std::string &name) {
        std::ifstream in(dir / name);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    fs::path dir;
    AccountFiles files;
};

PlanUser user(std::uint32_t uid, std::uint32_t gid) {
    PlanUser u;
    u.uid = uid;
    u.gid = gid;
    return u;
}

TEST(AgentAccountParse, FindsEntriesByIdAndNameAndSkipsMalformedLines) {
    EXPECT_EQ(find_passwd_by_uid(kPasswd, 33)->name, "www-data");
    EXPECT_EQ(find_passwd_by_name(kPasswd, "nobody")->id, 65534u);
    EXPECT_FALSE(find_passwd_by_uid(kPasswd, 1000));
    EXPECT_FALSE(find_passwd_by_name(kPasswd, "broken line without fields"));
    EXPECT_FALSE(find_passwd_by_uid("agent:x:notanumber:1:a:/h:/bin/sh\n", 0));
    EXPECT_EQ(find_group_by_gid(kGroup, 65534)->name, "nogroup");
    EXPECT_EQ(find_group_by_name(kGroup, "www-data")->id, 33u);
}

TEST_F(EtcDir, AddsAgentUserAndGroupWithTheHomeAndTheUidOfThePlan) {
    AgentAccount a = ensure_agent_account(user(1000, 1000), files);
    EXPECT_EQ(a.name, "agent");
    EXPECT_EQ(a.home, "/home/agent");
    EXPECT_EQ(a.uid, 1000u);
    EXPECT_EQ(read("passwd"),
              std::string(kPasswd) + "agent:x:1000:1000:rustyolo agent:/home/agent:" + a.shell + "\n");
    EXPECT_EQ(read("group"), std::string(kGroup) + "agent:x:1000:\n");
}

TEST_F(EtcDir, ReusesTheEntryOfAUidThatExistsButKeepsHomeAgent) {
    AgentAccount a = ensure_agent_account(user(33, 33), files);
    EXPECT_EQ(a.name, "www-data");
    EXPECT_EQ(a.home, "/home/agent");
    EXPECT_NE(a.shell, "/usr/sbin/nologin");
    EXPECT_EQ(read("passwd"), kPasswd);
    EXPECT_EQ(read("group"), kGroup);
}

TEST_F(EtcDir, AddsOnlyTheMissingGroup) {
    ensure_agent_account(user(1000, 33), files);
    EXPECT_EQ(read("group"), kGroup);
    EXPECT_NE(read("passwd").find("agent:x:1000:33:"), std::string::npos);
}

TEST_F(EtcDir, RefusesANameTakenByAnotherUid) {
    write("passwd", std::string(kPasswd) + "agent:x:1001:1001::/home/x:/bin/sh\n");
    EXPECT_THROW(ensure_agent_account(user(1000, 1000), files), std::runtime_error);
}

TEST_F(EtcDir, RefusesRootAndBadNamesOrHomes) {
    EXPECT_THROW(ensure_agent_account(user(0, 1000), files), std::runtime_error);
    EXPECT_THROW(ensure_agent_account(user(1000, 0), files), std::runtime_error);
    PlanUser bad_name = user(1000, 1000);
    bad_name.name = "a:b";
    EXPECT_THROW(ensure_agent_account(bad_name, files), std::runtime_error);
    PlanUser bad_home = user(1000, 1000);
    bad_home.home = "/home/a:/bin/sh";
    EXPECT_THROW(ensure_agent_account(bad_home, files), std::runtime_error);
    EXPECT_EQ(read("passwd"), kPasswd);
}

TEST_F(EtcDir, NeverFollowsASymlinkPlantedAtThePasswdFile) {
    write("real-passwd", kPasswd);
    fs::remove(dir / "passwd");
    fs::create_symlink(dir / "real-passwd", dir / "passwd");
    EXPECT_THROW(ensure_agent_account(user(1000, 1000), files), std::runtime_error);
    EXPECT_EQ(read("real-passwd"), kPasswd);
}

// The read-only root: the image's databases (passwd, group) are copied to run-passwd and
// run-group (the supervisor's tmpfs), then added to.
AccountFiles copied(const fs::path &dir) {
    AccountFiles copy;
    copy.base_passwd = (dir / "passwd").string();
    copy.base_group = (dir / "group").string();
    copy.passwd = (dir / "run-passwd").string();
    copy.group = (dir / "run-group").string();
    return copy;
}

TEST_F(EtcDir, CopiesTheImagesDatabasesBeforeAddingTheAgent) {
    const AccountFiles copy = copied(dir);
    AgentAccount a = ensure_agent_account(user(1000, 1000), copy);
    EXPECT_EQ(read("run-passwd"),
              std::string(kPasswd) + "agent:x:1000:1000:rustyolo agent:/home/agent:" + a.shell + "\n");
    EXPECT_EQ(read("run-group"), std::string(kGroup) + "agent:x:1000:\n");
    EXPECT_EQ(read("passwd"), kPasswd);  // the image's stay as they are
    struct stat st {};
    ASSERT_EQ(::stat((dir / "run-passwd").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(EtcDir, NeverCopiesOverAFileOrThroughASymlinkAtTheTarget) {
    const AccountFiles copy = copied(dir);
    write("elsewhere", "untouched");
    fs::create_symlink(dir / "elsewhere", dir / "run-group");
    EXPECT_THROW(ensure_agent_account(user(1000, 1000), copy), std::runtime_error);
    EXPECT_EQ(read("elsewhere"), "untouched");
    fs::remove(dir / "run-group");
    write("run-group", "planted:x:1000:\n");
    EXPECT_THROW(ensure_agent_account(user(1000, 1000), copy), std::runtime_error);
    EXPECT_EQ(read("run-group"), "planted:x:1000:\n");
}

}  // namespace
}  // namespace rustyolo::entrypoint
