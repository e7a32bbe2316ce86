#include "core/host/git_dirs.hpp"

#include "core/error.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

class GitDirs : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-gitdirs-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        project = pattern;
    }
    void TearDown() override { fs::remove_all(project); }

    void file(const std::string &rel, const std::string &text = "") {
        fs::create_directories((project / rel).parent_path());
        std::ofstream(project / rel) << text;
    }
    // A git dir as git makes it: HEAD, objects/, refs/.
    void git_dir(const std::string &rel) {
        file(rel + "/HEAD", "ref: refs/heads/main\n");
        fs::create_directories(project / rel / "objects");
        fs::create_directories(project / rel / "refs");
    }
    std::vector<std::string> relatives() {
        std::vector<std::string> out;
        for (const auto &d : find_git_dirs(project))
            out.push_back(d.relative + (d.linked ? " (linked)" : ""));
        return out;
    }
    std::vector<std::string> protected_paths() {
        std::vector<std::string> out;
        for (const auto &p : git_protected_paths(project))
            out.push_back(p.relative);
        return out;
    }

    fs::path project;
};

TEST_F(GitDirs, AProjectWithoutGitProtectsAnEmptyGitDirectory) {
    EXPECT_EQ(git_kind(project), GitKind::none);
    EXPECT_EQ(protected_paths(), (std::vector<std::string>{"HEAD", ".git/"}));
}

TEST_F(GitDirs, AGitDirectoryWithoutHeadIsNoRepositoryAndIsProtectedAsAWhole) {
    fs::create_directory(project / ".git");  // e.g. another session's placeholder
    EXPECT_EQ(git_kind(project), GitKind::none);
    EXPECT_EQ(protected_paths(), (std::vector<std::string>{"HEAD", ".git/"}));
}

TEST_F(GitDirs, TheTopLevelHeadIsAnEmptyPlaceholderSoThatTheTopCannotBecomeABareRepository) {
    auto paths = git_protected_paths(project);
    ASSERT_FALSE(paths.empty());
    EXPECT_EQ(paths[0].relative, "HEAD");
    EXPECT_EQ(paths[0].content, "");  // git's validate_headref refuses an empty HEAD
    git_dir(".git");
    EXPECT_EQ(git_protected_paths(project)[0].relative, "HEAD");  // .git/HEAD is the agent's to spoil
}

TEST_F(GitDirs, AProjectFileNamedHeadThatGitWouldNotTakeIsJustProtected) {
    file("HEAD", "the head of the project\n");
    fs::create_directories(project / "objects");
    fs::create_directories(project / "refs");
    EXPECT_EQ(git_kind(project), GitKind::none);
    EXPECT_EQ(protected_paths(), (std::vector<std::string>{"HEAD", ".git/"}));
}

TEST_F(GitDirs, AProjectWhoseTopIsABareRepositoryIsRefusedWithTheReason) {
    const std::vector<std::string> heads{"ref: refs/heads/main\n", "ref:refs/heads/x", std::string(40, 'a') + "\n"};
    for (const std::string &head : heads) {
        fs::create_directories(project / "objects");  // the layout of `git init --bare`
        fs::create_directories(project / "refs");
        file("HEAD", head);
        EXPECT_EQ(git_kind(project), GitKind::bare) << head;
        try {
            git_protected_paths(project);
            FAIL() << "a bare repository at the top was accepted: " << head;
        } catch (const UsageError &e) {
            EXPECT_NE(std::string(e.what()).find("is itself a git dir"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find((project / "HEAD").string()), std::string::npos) << e.what();
        }
    }
}

TEST_F(GitDirs, AGitfileIsProtectedAsAWhole) {
    file(".git", "gitdir: ../elsewhere/.git/worktrees/x\n");
    EXPECT_EQ(git_kind(project), GitKind::file);
    EXPECT_EQ(protected_paths(), (std::vector<std::string>{"HEAD", ".git"}));
}

TEST_F(GitDirs, TheMainGitDirHasEveryFileGitReadsAsConfigurationProtected) {
    git_dir(".git");
    EXPECT_EQ(protected_paths(),
              (std::vector<std::string>{"HEAD", ".git/commondir", ".git/gitdir", ".git/config.worktree", ".git/config",
                                        ".git/hooks/", ".git/info/attributes", ".git/objects/info/alternates",
                                        ".git/branches/", ".git/remotes/"}));
}

TEST_F(GitDirs, AMissingCommondirIsAPlaceholderThatPointsAtTheGitDirItself) {
    git_dir(".git");
    auto paths = git_protected_paths(project);
    auto commondir = std::find_if(paths.begin(), paths.end(), [](auto &p) { return p.relative == ".git/commondir"; });
    ASSERT_NE(commondir, paths.end());
    EXPECT_EQ(commondir->content, ".\n");  // git dies on an empty commondir
    for (const auto &p : paths) {
        if (p.relative != ".git/commondir") {
            EXPECT_EQ(p.content, "") << p.relative;
        }
    }
}

TEST_F(GitDirs, SubmodulesNestedSubmodulesAndNamesWithSlashesAreFound) {
    git_dir(".git");
    git_dir(".git/modules/lib");
    git_dir(".git/modules/lib/modules/inner");
    git_dir(".git/modules/vendor/deep/name");  // submodule named "vendor/deep/name"
    EXPECT_EQ(relatives(), (std::vector<std::string>{".git", ".git/modules/lib", ".git/modules/lib/modules/inner",
                                                     ".git/modules/vendor/deep/name"}));
}

TEST_F(GitDirs, LinkedWorktreesGetOnlyTheirPerWorktreeFilesProtected) {
    git_dir(".git");
    file(".git/worktrees/wt/HEAD", "ref: refs/heads/wt\n");
    file(".git/worktrees/wt/commondir", "../..\n");
    file(".git/worktrees/wt/gitdir", "/elsewhere/wt/.git\n");
    EXPECT_EQ(relatives(), (std::vector<std::string>{".git", ".git/worktrees/wt (linked)"}));
    auto paths = protected_paths();
    EXPECT_NE(std::find(paths.begin(), paths.end(), ".git/worktrees/wt/commondir"), paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), ".git/worktrees/wt/gitdir"), paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), ".git/worktrees/wt/config.worktree"), paths.end());
    EXPECT_EQ(std::find(paths.begin(), paths.end(), ".git/worktrees/wt/hooks/"), paths.end());
    EXPECT_EQ(std::find(paths.begin(), paths.end(), ".git/worktrees/wt/remotes/"), paths.end());  // common dir's
}

TEST_F(GitDirs, LegacyRemoteDefinitionsAreProtectedInEverySubmoduleGitDirToo) {
    git_dir(".git");
    git_dir(".git/modules/lib");
    auto paths = protected_paths();
    for (const char *p : {".git/branches/", ".git/remotes/", ".git/modules/lib/branches/", ".git/modules/lib/remotes/"})
        EXPECT_NE(std::find(paths.begin(), paths.end(), p), paths.end()) << p;
}

TEST_F(GitDirs, ASymbolicLinkAmongTheModulesIsRefusedWithTheReason) {
    git_dir(".git");
    fs::create_directories(project / ".git/modules");
    fs::create_directory_symlink("/tmp", project / ".git/modules/evil");
    try {
        find_git_dirs(project);
        FAIL() << "a symlinked module git dir was accepted";
    } catch (const UsageError &e) {
        EXPECT_NE(std::string(e.what()).find(".git/modules/evil is a symbolic link"), std::string::npos) << e.what();
    }
}

TEST_F(GitDirs, NewTopLevelEntriesOffTheAllowListAreMovedAsideAndNothingElse) {
    git_dir(".git");
    file(".git/config", "[core]\n");
    file(".git/user-thing", "the user's own\n");
    GitSnapshot before = snapshot_git_dirs(project);
    // what a session may add
    file(".git/index", "x");
    file(".git/ORIG_HEAD", "x");
    file(".git/packed-refs.lock", "x");
    file(".git/COMMIT_EDITMSG", "x");
    // what git could read by name later
    file(".git/rebase-merge/git-rebase-todo", "exec touch /tmp/pwned\n");
    file(".git/sequencer/todo", "exec touch /tmp/pwned\n");
    git_dir(".git/modules/evil");
    file(".git/modules/evil/config", "[core]\n\tfsmonitor = touch /tmp/pwned\n");

    auto result = move_aside_new_git_entries(project, before, "s1");
    EXPECT_TRUE(result.failures.empty());
    std::vector<std::string> from;
    for (const auto &m : result.moved)
        from.push_back(m.from);
    std::sort(from.begin(), from.end());
    EXPECT_EQ(from, (std::vector<std::string>{".git/modules", ".git/rebase-merge", ".git/sequencer"}));
    EXPECT_FALSE(fs::exists(project / ".git/rebase-merge"));
    for (const auto &m : result.moved) {
        EXPECT_EQ(m.to.rfind(".git/rustyolo-aside.s1.", 0), 0u) << m.to;
        if (m.from == ".git/rebase-merge") {
            EXPECT_TRUE(fs::exists(project / m.to / "git-rebase-todo"));  // nothing lost
        }
    }
    EXPECT_TRUE(fs::exists(project / ".git/user-thing"));
    EXPECT_TRUE(fs::exists(project / ".git/index"));
    EXPECT_TRUE(fs::exists(project / ".git/packed-refs.lock"));
}

TEST_F(GitDirs, ANewSubmoduleGitDirInAnExistingModulesDirIsMovedAside) {
    git_dir(".git");
    git_dir(".git/modules/lib");
    GitSnapshot before = snapshot_git_dirs(project);
    git_dir(".git/modules/evil");
    git_dir(".git/modules/lib/modules/nested-evil");
    file(".git/modules/lib/FETCH_HEAD", "x");  // allowed in an existing submodule git dir
    auto result = move_aside_new_git_entries(project, before, "s2");
    std::vector<std::string> from;
    for (const auto &m : result.moved) {
        from.push_back(m.from);
        if (m.from == ".git/modules/evil") {
            EXPECT_TRUE(fs::exists(project / m.to / "HEAD")) << m.to;
        }
    }
    std::sort(from.begin(), from.end());
    EXPECT_EQ(from, (std::vector<std::string>{".git/modules/evil", ".git/modules/lib/modules"}));
    EXPECT_TRUE(fs::exists(project / ".git/modules/lib/FETCH_HEAD"));
}

TEST_F(GitDirs, AMovedAsideNameThatIsTakenGetsTheNextNumberAndReplacesNothing) {
    git_dir(".git");
    GitSnapshot before = snapshot_git_dirs(project);
    file(".git/sequencer/todo", "new\n");
    file(".git/rustyolo-aside.s3.1", "already there\n");
    auto result = move_aside_new_git_entries(project, before, "s3");
    ASSERT_EQ(result.moved.size(), 1u);  // the aside-named file is itself new, but git never reads it
    EXPECT_EQ(result.moved[0].to, ".git/rustyolo-aside.s3.2");
    std::ifstream kept(project / ".git/rustyolo-aside.s3.1");
    std::string text((std::istreambuf_iterator<char>(kept)), {});
    EXPECT_EQ(text, "already there\n");
}

TEST_F(GitDirs, AnEntryWithANameOfNameMaxBytesIsMovedAsideAndSoIsEverythingAfterIt) {
    git_dir(".git");
    GitSnapshot before = snapshot_git_dirs(project);
    const std::string longest(255, 'a');  // NAME_MAX: no name built from it could be longer
    file(".git/" + longest, "x");
    file(".git/rebase-merge/git-rebase-todo", "exec touch /tmp/pwned\n");
    auto result = move_aside_new_git_entries(project, before, "0123456789ab");
    EXPECT_TRUE(result.failures.empty());
    ASSERT_EQ(result.moved.size(), 2u);
    EXPECT_EQ(result.moved[0].from, ".git/" + longest);  // the original name stays in the report
    EXPECT_FALSE(fs::exists(project / ".git" / longest));
    EXPECT_FALSE(fs::exists(project / ".git/rebase-merge"));
}

TEST_F(GitDirs, AnEntryThatCannotBeMovedDoesNotKeepTheOthersInPlace) {
    git_dir(".git");
    git_dir(".git/modules/lib");
    GitSnapshot before = snapshot_git_dirs(project);
    file(".git/modules/lib/sequencer/todo", "x");
    file(".git/rebase-merge/git-rebase-todo", "x");
    fs::permissions(project / ".git/modules/lib", fs::perms::owner_write, fs::perm_options::remove);
    auto result = move_aside_new_git_entries(project, before, "s4");
    fs::permissions(project / ".git/modules/lib", fs::perms::owner_write, fs::perm_options::add);
    if (::geteuid() != 0) {  // root renames in a read-only directory all the same
        ASSERT_EQ(result.failures.size(), 1u);
        EXPECT_EQ(result.failures[0].path, ".git/modules/lib/sequencer");
    }
    EXPECT_FALSE(fs::exists(project / ".git/rebase-merge"));
}

TEST_F(GitDirs, AModulesDirReplacedByASymbolicLinkIsMovedAsideAsAWhole) {
    git_dir(".git");
    fs::create_directories(project / ".git/modules");  // empty: no protected path pins it
    GitSnapshot before = snapshot_git_dirs(project);
    fs::create_directories(project / "elsewhere/evil");
    fs::remove(project / ".git/modules");
    fs::create_directory_symlink(project / "elsewhere", project / ".git/modules");
    auto result = move_aside_new_git_entries(project, before, "s5");
    EXPECT_TRUE(result.failures.empty());
    ASSERT_EQ(result.moved.size(), 1u);
    EXPECT_EQ(result.moved[0].from, ".git/modules");
    EXPECT_FALSE(fs::exists(fs::symlink_status(project / ".git/modules")));
    EXPECT_TRUE(fs::exists(project / "elsewhere/evil"));  // the link's target is left alone
}

TEST_F(GitDirs, ASnapshotKeptInARecordReadsBackAndNothingOutsideTheProjectIsTakenFromIt) {
    git_dir(".git");
    git_dir(".git/modules/lib");
    GitSnapshot snap = snapshot_git_dirs(project);
    GitSnapshot back = git_snapshot_from_json(to_json(snap));
    EXPECT_EQ(back.git_dirs, snap.git_dirs);
    EXPECT_EQ(back.containers, snap.containers);
    EXPECT_EQ(back.entries, snap.entries);
    boost::json::value bad = boost::json::object{
        {"git_dirs", boost::json::array{"/etc", "../up", ".git/../..", ".git"}}, {"entries", 7}};
    EXPECT_EQ(git_snapshot_from_json(bad).git_dirs, std::vector<std::string>{".git"});
}

}  // namespace
}  // namespace rustyolo
