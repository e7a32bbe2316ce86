#include "core/host/placeholders.hpp"

#include "core/error.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path &p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

class Placeholders : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-placeholders-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root = pattern;
        project = root / "project";
        fs::create_directory(project);
        runtime = (root / "runtime").string();
    }
    void TearDown() override { fs::remove_all(root); }

    std::unique_ptr<ProjectPlaceholders> session(const std::string &id) {
        return std::make_unique<ProjectPlaceholders>(runtime, project, id);
    }
    bool hold(ProjectPlaceholders &s, const std::string &rel, bool dir = false, const std::string &content = "") {
        return s.hold(project / rel, dir, content, ::getuid(), ::getgid());
    }

    fs::path root, project;
    std::string runtime;
};

TEST_F(Placeholders, AMissingPathIsCreatedWithItsContentAndRemovedWhenTheSessionEnds) {
    auto a = session("a");
    EXPECT_TRUE(hold(*a, ".git", true));
    EXPECT_TRUE(hold(*a, ".git/commondir", false, ".\n"));
    a->commit();
    EXPECT_EQ(read(project / ".git/commondir"), ".\n");
    a.reset();
    EXPECT_FALSE(fs::exists(project / ".git"));
}

TEST_F(Placeholders, APathThatExistsOnItsOwnIsNotAPlaceholderAndIsNeverRemoved) {
    std::ofstream(project / ".envrc") << "";
    auto a = session("a");
    EXPECT_FALSE(hold(*a, ".envrc"));
    a.reset();
    EXPECT_TRUE(fs::exists(project / ".envrc"));
}

TEST_F(Placeholders, TheLastSessionOutRemovesAPlaceholderThatTwoSessionsHold) {
    auto a = session("a");
    ASSERT_TRUE(hold(*a, ".envrc"));
    a->commit();
    auto b = session("b");
    EXPECT_TRUE(hold(*b, ".envrc")) << "b must know a's placeholder as one";
    b->commit();
    a.reset();  // the first one out must not remove what b has mounted
    EXPECT_TRUE(fs::exists(project / ".envrc"));
    b.reset();
    EXPECT_FALSE(fs::exists(project / ".envrc"));
}

TEST_F(Placeholders, APlaceholderSomebodyWroteIntoIsKept) {
    auto a = session("a");
    ASSERT_TRUE(hold(*a, ".vscode", true));
    a->commit();
    std::ofstream(project / ".vscode/settings.json") << "{}";
    a.reset();
    EXPECT_TRUE(fs::exists(project / ".vscode/settings.json"));
}

TEST_F(Placeholders, AFilePlaceholderWithOtherContentIsKept) {
    auto a = session("a");
    ASSERT_TRUE(hold(*a, ".envrc"));
    a->commit();
    std::ofstream(project / ".envrc") << "export MINE=1\n";
    a.reset();
    EXPECT_EQ(read(project / ".envrc"), "export MINE=1\n");
}

TEST_F(Placeholders, ADeadSessionsPlaceholdersAreRemovedByTheNextOneUnlessALiveOneHoldsThem) {
    auto b = session("b");
    ASSERT_TRUE(hold(*b, ".idea", true));
    b->commit();
    // a holds .idea with b and creates .envrc, then dies without releasing (as if SIGKILLed)
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto a = std::make_unique<ProjectPlaceholders>(runtime, project, "a");
        bool ok = a->hold(project / ".idea", true, "", ::getuid(), ::getgid()) &&
                  a->hold(project / ".envrc", false, "", ::getuid(), ::getgid());
        a->commit();
        a.release();  // never released
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_TRUE(fs::exists(project / ".envrc"));
    auto c = session("c");  // the next session's start takes the dead one's placeholders over
    EXPECT_FALSE(fs::exists(project / ".envrc"));
    EXPECT_TRUE(fs::exists(project / ".idea")) << "b still holds it";
    c.reset();
    EXPECT_TRUE(fs::exists(project / ".idea"));
    b.reset();
    EXPECT_FALSE(fs::exists(project / ".idea"));
}

TEST_F(Placeholders, ADeadSessionsGitSnapshotIsHandedToTheNextSessionOnceBeforeItsPlaceholdersGo) {
    auto live = session("b");
    live->set_git_snapshot(boost::json::object{{"entries", boost::json::array{"live"}}});
    live->commit();
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto a = std::make_unique<ProjectPlaceholders>(runtime, project, "a0");
        bool ok = a->hold(project / ".envrc", false, "", ::getuid(), ::getgid());
        a->set_git_snapshot(boost::json::object{{"entries", boost::json::array{".git/x"}}});
        a->commit();
        a.release();  // killed: never released
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::vector<std::pair<std::string, std::string>> handed;
    bool placeholder_there = false;
    auto on_dead = [&](const std::string &id, const boost::json::value &snapshot) {
        handed.emplace_back(id, boost::json::serialize(snapshot));
        placeholder_there = fs::exists(project / ".envrc");
    };
    auto c = std::make_unique<ProjectPlaceholders>(runtime, project, "c0", on_dead);
    ASSERT_EQ(handed.size(), 1u) << "only the dead session's snapshot, not the live one's";
    EXPECT_EQ(handed[0].first, "a0");
    EXPECT_NE(handed[0].second.find(".git/x"), std::string::npos) << handed[0].second;
    EXPECT_TRUE(placeholder_there) << "the dead session's move-aside runs before its placeholders are removed";
    c.reset();
    EXPECT_EQ(handed.size(), 1u) << "a dead session is handled once";
}

TEST_F(Placeholders, NothingIsCreatedThroughADirectoryThatIsASymbolicLink) {
    fs::create_directory(root / "elsewhere");
    fs::create_directory_symlink(root / "elsewhere", project / ".claude");
    auto a = session("a");
    EXPECT_THROW(hold(*a, ".claude/settings.json"), Error);
    EXPECT_FALSE(fs::exists(root / "elsewhere/settings.json"));
}

TEST_F(Placeholders, NothingIsRemovedThroughADirectoryThatBecameASymbolicLink) {
    auto a = session("a");
    ASSERT_TRUE(hold(*a, ".claude", true));
    ASSERT_TRUE(hold(*a, ".claude/settings.json"));
    a->commit();
    // another session's agent swaps the directory for a link to an empty file of the same name
    fs::create_directory(root / "elsewhere");
    std::ofstream(root / "elsewhere/settings.json") << "";
    fs::rename(project / ".claude", root / "moved");
    fs::create_directory_symlink(root / "elsewhere", project / ".claude");
    a.reset();
    EXPECT_TRUE(fs::exists(root / "elsewhere/settings.json"));
}

TEST_F(Placeholders, TheRegistryIsKeyedByTheProjectDirectoryNotByHowItsPathIsSpelled) {
    fs::create_directory_symlink(project, root / "link");
    EXPECT_EQ(placeholder_registry_dir(runtime, project), placeholder_registry_dir(runtime, root / "link"));
    EXPECT_EQ(placeholder_registry_dir(runtime, project), placeholder_registry_dir(runtime, project / "."));
    fs::create_directory(root / "other");
    EXPECT_NE(placeholder_registry_dir(runtime, project), placeholder_registry_dir(runtime, root / "other"));
    // a session through either spelling sees the other's placeholder as held
    auto a = session("a");
    EXPECT_TRUE(hold(*a, ".envrc"));
    a->commit();
    auto b = std::make_unique<ProjectPlaceholders>(runtime, root / "link", "b");
    EXPECT_TRUE(b->hold(root / "link/.envrc", false, "", ::getuid(), ::getgid()));
    b->commit();
    a.reset();
    EXPECT_TRUE(fs::exists(project / ".envrc")) << "the first session out removed what the other one mounts";
    b.reset();
    EXPECT_FALSE(fs::exists(project / ".envrc"));
}

TEST_F(Placeholders, AProjectThatCannotBeFoundIsRefusedWithItsPath) {
    try {
        placeholder_registry_dir(runtime, root / "missing");
        FAIL() << "a missing project got a registry";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find((root / "missing").string()), std::string::npos) << e.what();
    }
}

TEST_F(Placeholders, TheRegistryLivesInAPrivateDirectory) {
    auto a = session("a");
    struct stat st {};
    ASSERT_EQ(::lstat(placeholder_registry_dir(runtime, project).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace rustyolo
