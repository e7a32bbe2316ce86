#include "entrypoint/mount_check.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rustyolo::entrypoint {
namespace {

namespace fs = std::filesystem;

std::string identity(const fs::path &p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

class MountCheck : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-mountcheck-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root = pattern;
        fs::permissions(root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        fs::create_directories(root / "app/.git/hooks");
        fs::create_directories(root / "secret");
    }
    void TearDown() override { fs::remove_all(root); }
    Plan plan_with(const fs::path &target, const std::string &id) {
        Plan plan;
        plan.workdir = (root / "app").string();
        plan.mounts = {PlanMount{"/host/project/.git/hooks", target.string(), true, "protect", "", false, id}};
        return plan;
    }
    fs::path root;
};

TEST_F(MountCheck, TheCheckedDirectoryPasses) {
    const fs::path hooks = root / "app/.git/hooks";
    EXPECT_NO_THROW(verify_mounts(plan_with(hooks, identity(hooks))));
}

TEST_F(MountCheck, AnotherDirectoryAtTheTargetIsRefusedNamingTheMount) {
    const fs::path hooks = root / "app/.git/hooks";
    const std::string checked = identity(hooks);
    fs::rename(hooks, root / "hooks-moved");
    fs::create_directory(hooks);  // what a swap leaves: same path, another directory
    try {
        verify_mounts(plan_with(hooks, checked));
        FAIL() << "a replaced directory passed";
    } catch (const std::exception &e) {
        EXPECT_NE(std::string(e.what()).find("is not the /host/project/.git/hooks that rustyolo checked"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(MountCheck, ASymbolicLinkOnTheWayIsRefusedEvenToTheCheckedDirectory) {
    const fs::path hooks = root / "app/.git/hooks";
    const std::string checked = identity(hooks);
    fs::rename(root / "app/.git", root / "git-real");
    fs::create_directory_symlink(root / "git-real", root / "app/.git");
    EXPECT_THROW(verify_mounts(plan_with(hooks, checked)), std::exception);
}

TEST_F(MountCheck, OutsideTheProjectTheImagesLinksAreFollowed) {
    fs::create_directories(root / "run/x");
    fs::create_directories(root / "var");
    fs::create_directory_symlink(root / "run", root / "var/run");  // as /var/run -> /run in Debian
    EXPECT_NO_THROW(verify_mounts(plan_with(root / "var/run/x", identity(root / "run/x"))));
}

TEST_F(MountCheck, APathInTheProjectTheAgentCannotReachIsRefused) {
    const fs::path hooks = root / "app/.git/hooks";
    const std::string checked = identity(hooks);
    fs::permissions(root / "app/.git", fs::perms::owner_all);  // root's 0700: the agent (1000) cannot pass
    EXPECT_THROW(verify_mounts(plan_with(hooks, checked)), std::exception);
}

TEST_F(MountCheck, OutsideTheProjectATargetTheAgentCannotReachIsNothingItCouldUse) {
    fs::create_directories(root / "private/data");
    const std::string checked = identity(root / "private/data");
    fs::permissions(root / "private", fs::perms::owner_all);
    EXPECT_NO_THROW(verify_mounts(plan_with(root / "private/data", checked)));
}

TEST_F(MountCheck, AMountWithoutARecordedIdentityIsNotChecked) {
    EXPECT_NO_THROW(verify_mounts(plan_with(root / "does-not-exist", "")));
}

}  // namespace
}  // namespace rustyolo::entrypoint
