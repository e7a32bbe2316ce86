#include "core/host/git_checkouts.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

class GitCheckouts : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/rustyolo-gitcheckouts-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        project = fs::canonical(pattern);
    }
    void TearDown() override { fs::remove_all(project); }

    void file(const std::string &rel, const std::string &text = "") {
        fs::create_directories((project / rel).parent_path());
        std::ofstream(project / rel) << text;
    }
    void git_dir(const std::string &rel) {
        file(rel + "/HEAD", "ref: refs/heads/main\n");
        fs::create_directories(project / rel / "objects");
        fs::create_directories(project / rel / "refs");
    }
    std::vector<std::string> protected_paths() {
        std::vector<std::string> out;
        for (const auto &p : git_protected_paths(project))
            out.push_back(p.relative);
        return out;
    }
    bool is_protected(const std::string &rel) {
        auto paths = protected_paths();
        return std::find(paths.begin(), paths.end(), rel) != paths.end();
    }

    fs::path project;
};

TEST_F(GitCheckouts, TheGitfileOfASubmoduleCheckoutIsFoundFromItsCoreWorktree) {
    git_dir(".git");
    git_dir(".git/modules/sub");
    file(".git/modules/sub/config", "[core]\n\tbare = false\n\tworktree = ../../../sub\n");
    file("sub/.git", "gitdir: ../.git/modules/sub\n");
    EXPECT_TRUE(is_protected("sub/.git"));
}

TEST_F(GitCheckouts, NestedSubmodulesAndGitmodulesPathsAreFoundToo) {
    git_dir(".git");
    git_dir(".git/modules/lib");
    git_dir(".git/modules/lib/modules/inner");
    file(".git/modules/lib/modules/inner/config", "[core]\n\tworktree = ../../../../../lib/inner\n");
    file("lib/.git", "gitdir: ../.git/modules/lib\n");
    file("lib/inner/.git", "gitdir: ../../.git/modules/lib/modules/inner\n");
    file(".gitmodules", "[submodule \"lib\"]\n\tpath = lib\n\turl = ../lib\n");
    EXPECT_TRUE(is_protected("lib/.git"));        // from .gitmodules (its config names no worktree)
    EXPECT_TRUE(is_protected("lib/inner/.git"));  // from the nested git dir's core.worktree
}

TEST_F(GitCheckouts, ALinkedWorktreeInsideTheProjectHasItsGitfileProtected) {
    git_dir(".git");
    file(".git/worktrees/wt/HEAD", "ref: refs/heads/wt\n");
    file(".git/worktrees/wt/commondir", "../..\n");
    file(".git/worktrees/wt/gitdir", (project / "trees/wt/.git").string() + "\n");
    file("trees/wt/.git", "gitdir: " + (project / ".git/worktrees/wt").string() + "\n");
    EXPECT_TRUE(is_protected("trees/wt/.git"));
}

TEST_F(GitCheckouts, WhatIsOutsideTheProjectMissingOrNotAFileIsNotListed) {
    git_dir(".git");
    file(".git/worktrees/away/HEAD", "ref: refs/heads/x\n");
    file(".git/worktrees/away/commondir", "../..\n");
    file(".git/worktrees/away/gitdir", "/elsewhere/away/.git\n");
    git_dir(".git/modules/gone");
    file(".git/modules/gone/config", "[core]\n\tworktree = ../../../gone\n");  // not checked out
    file(".gitmodules", "[submodule \"d\"]\n\tpath = d\n[submodule \"up\"]\n\tpath = ../up\n");
    git_dir("d/.git");  // an embedded git dir, not a gitfile
    EXPECT_EQ(checkout_gitfiles(project, find_git_dirs(project)), std::vector<std::string>{});
}

TEST_F(GitCheckouts, ASymbolicLinkOnTheWayIsNotFollowed) {
    git_dir(".git");
    fs::create_directories(project / "real");
    file("real/.git", "gitdir: x\n");
    fs::create_directory_symlink(project / "real", project / "link");
    file(".gitmodules", "[submodule \"l\"]\n\tpath = link\n");
    // resolved, the path is real/.git: that file is protected, never one through the link
    EXPECT_EQ(checkout_gitfiles(project, find_git_dirs(project)), std::vector<std::string>{"real/.git"});
}

TEST(GitConfigValues, OnlyThePlainValuesOfTheNamedKeyInTheNamedSection) {
    const std::string text = "[core]\n\tWorkTree = \"a b\" ; c\n[core \"x\"]\n\tworktree = no\n"
                             "[other]\n\tworktree = no\n[CORE]\n\tworktree = last\n";
    EXPECT_EQ(git_config_values(text, "core", "worktree", false), std::vector<std::string>{"last"});
    EXPECT_EQ(git_config_values("[core]\n\tworktree = \"a b\" # c\n", "core", "worktree", false),
              std::vector<std::string>{"a b"});
    EXPECT_TRUE(git_config_values("[core]\n\tworktree = a\\\\b\n", "core", "worktree", false).empty());
    EXPECT_EQ(git_config_values("[submodule \"a\"]\npath = x\n[submodule \"b\"]\npath=y\n", "submodule", "path",
                                true),
              (std::vector<std::string>{"x", "y"}));
}

}  // namespace
}  // namespace rustyolo
