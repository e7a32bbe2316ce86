// ProjectMounts: no other mount of a session may reach the project's protected paths read-write
// or take their place in the container. Real directories; bind-mount aliases in a private mount
// namespace (root only; tests/unit/support/scratch_netns.hpp runs the child).
#include "core/host/project_mounts.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include "scratch_netns.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

class ProjectMountsTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                ("rustyolo-project-mounts-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_ / "parent" / "project" / ".git" / "hooks");
        fs::create_directories(root_ / "parent" / "project" / ".git" / "objects");
        fs::create_directories(root_ / "parent" / "project" / "src");
        fs::create_directories(root_ / "elsewhere");
        root_ = fs::canonical(root_);
        project_ = (root_ / "parent" / "project").string();
    }
    void TearDown() override { fs::remove_all(root_); }

    ProjectMounts mounts() const {
        ProjectMounts m(project_, "/app", {".git/hooks/", ".git/config", ".envrc", ".vscode/"});
        return m;
    }
    static MountSpec spec(const fs::path &source, const std::string &target, bool readonly = false) {
        MountSpec s;
        s.source = source.string();
        s.requested = s.source + ":" + target + (readonly ? ":ro" : "");
        s.target = target;
        s.readonly = readonly;
        s.file_type = fs::exists(source) ? "directory" : "missing";
        return s;
    }
    // The message of the source check's refusal, "" when allowed.
    std::string source_refusal(const ProjectMounts &m, const MountSpec &s) const {
        try {
            m.check_source(s, "volume " + s.requested);
        } catch (const UsageError &e) {
            return e.what();
        }
        return "";
    }
    std::string target_refusal(const std::string &target) const {
        try {
            mounts().check_target(spec(root_ / "elsewhere", target), "volume X");
        } catch (const UsageError &e) {
            return e.what();
        }
        return "";
    }

    fs::path root_;
    std::string project_;
};

TEST_F(ProjectMountsTest, AReadWriteParentOfTheProjectIsRefusedAndReadOnlyIsAllowed) {
    const ProjectMounts m = mounts();
    for (const fs::path &source : {root_ / "parent", root_, fs::path("/")}) {
        std::string refusal = source_refusal(m, spec(source, "/data"));
        EXPECT_NE(refusal.find("contains the project directory " + project_), std::string::npos) << refusal;
        EXPECT_NE(refusal.find(":/data:ro"), std::string::npos) << "names the read-only way: " << refusal;
        EXPECT_EQ(source_refusal(m, spec(source, "/data", true)), "") << source;
    }
}

TEST_F(ProjectMountsTest, TheProjectItselfUnderAnotherTargetIsRefused) {
    std::string refusal = source_refusal(mounts(), spec(project_, "/data"));
    EXPECT_NE(refusal.find("is the project directory"), std::string::npos) << refusal;
    EXPECT_NE(refusal.find(".git/hooks, .git/config, .envrc and 1 more"), std::string::npos) << refusal;
}

TEST_F(ProjectMountsTest, ProtectedPathsTheirParentsAndWhatIsInsideThemAreRefusedReadWrite) {
    const ProjectMounts m = mounts();
    const fs::path p = project_;
    EXPECT_NE(source_refusal(m, spec(p / ".git", "/g")).find("which contains .git/hooks, .git/config"),
              std::string::npos);
    EXPECT_NE(source_refusal(m, spec(p / ".git" / "hooks", "/h")).find("which is .git/hooks"), std::string::npos);
    EXPECT_NE(source_refusal(m, spec(p / ".git" / "hooks" / "sub", "/h")).find("lies inside .git/hooks"),
              std::string::npos);
    // Missing protected paths are judged by their place.
    EXPECT_NE(source_refusal(m, spec(p / ".vscode", "/v")).find("which is .vscode"), std::string::npos);
    // Twins: unprotected parts of the project, and anything read-only.
    EXPECT_EQ(source_refusal(m, spec(p / "src", "/src")), "");
    EXPECT_EQ(source_refusal(m, spec(p / ".git" / "objects", "/o")), "");
    EXPECT_EQ(source_refusal(m, spec(p / ".git", "/g", true)), "");
    EXPECT_EQ(source_refusal(m, spec(root_ / "elsewhere", "/data")), "");
}

TEST_F(ProjectMountsTest, ASymlinkedSpellingIsTheSameDirectory) {
    // The CLI canonicalises sources, but a path through a link to the project is still the project.
    fs::create_directory_symlink(root_ / "parent", root_ / "alias");
    const ProjectMounts m = mounts();
    std::string refusal = source_refusal(m, spec(root_ / "alias" / "project" / ".git", "/g"));
    EXPECT_NE(refusal.find("which contains .git/hooks"), std::string::npos) << refusal;
}

TEST_F(ProjectMountsTest, TargetsAtAboveOrInsideProtectedPathsOrTheProjectAreRefused) {
    EXPECT_NE(target_refusal("/app").find("is the project's place /app"), std::string::npos);
    EXPECT_NE(target_refusal("/").find("contains the project's place"), std::string::npos);
    EXPECT_NE(target_refusal("/app/.git/hooks").find("is /app/.git/hooks"), std::string::npos);
    EXPECT_NE(target_refusal("/app/.git/hooks/pre-commit").find("lies inside /app/.git/hooks"), std::string::npos);
    EXPECT_NE(target_refusal("/app/.git").find("contains /app/.git/hooks, .git/config"), std::string::npos);
    EXPECT_NE(target_refusal("/app/.envrc").find("is /app/.envrc"), std::string::npos);
    EXPECT_NE(target_refusal("/app/.vscode/tasks.json").find("lies inside /app/.vscode"), std::string::npos);
    // Twins.
    for (const char *target : {"/data", "/app/data", "/app/.git/objects", "/app/.vscodex", "/application"})
        EXPECT_EQ(target_refusal(target), "") << target;
}

TEST_F(ProjectMountsTest, BindMountAliasesAndMountsInsideTheSourceAreFound) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to bind-mount in a private mount namespace";
    fs::create_directories(root_ / "elsewhere" / "alias-of-parent");
    fs::create_directories(root_ / "elsewhere" / "alias-of-git");
    fs::create_directories(root_ / "elsewhere" / "holder" / "inner");
    fs::create_directories(root_ / "elsewhere" / "holder-src" / "inner");
    const fs::path e = root_ / "elsewhere";
    std::string result = test_support::in_unshared_child(CLONE_NEWNS, [&]() -> std::string {
        const fs::path p = project_;
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return "cannot make the mount namespace private";
        if (::mount((root_ / "parent").c_str(), (e / "alias-of-parent").c_str(), nullptr, MS_BIND, nullptr) != 0 ||
            ::mount((p / ".git").c_str(), (e / "alias-of-git").c_str(), nullptr, MS_BIND, nullptr) != 0 ||
            ::mount(p.c_str(), (e / "holder" / "inner").c_str(), nullptr, MS_BIND, nullptr) != 0)
            return "bind mount failed";
        const ProjectMounts m = mounts();  // reads this namespace's mount points
        std::string out;
        auto expect = [&](const MountSpec &s, const std::string &part) {
            std::string refusal = source_refusal(m, s);
            if (refusal.find(part) == std::string::npos)
                out += s.source + ": expected \"" + part + "\", got \"" + refusal + "\"\n";
        };
        expect(spec(e / "alias-of-parent", "/d"), "contains the project directory");
        expect(spec(e / "alias-of-git", "/d"), "which contains .git/hooks");
        expect(spec(e / "alias-of-git" / "hooks", "/d"), "which is .git/hooks");
        expect(spec(e / "holder", "/d"), "(through the mount point " + (e / "holder" / "inner").string());
        // Twins: the same shapes without the aliases.
        if (std::string r = source_refusal(m, spec(e / "holder-src", "/d")); !r.empty())
            out += "holder-src refused: " + r + "\n";
        if (std::string r = source_refusal(m, spec(e / "holder", "/d", true)); !r.empty())
            out += "read-only holder refused: " + r + "\n";
        return out;
    });
    EXPECT_EQ(result, "");
}

}  // namespace
}  // namespace rustyolo
