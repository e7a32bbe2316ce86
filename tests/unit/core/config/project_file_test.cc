// The project config: read only from a regular file, and refused whatever the trust when it names
// paths inside the project.
#include "core/config/project_file.hpp"

#include "core/config/config_toml.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

class ProjectFile : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("rustyolo-project-file-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_ / "project" / "tools");
        fs::create_directories(root_ / "home" / ".config" / "rustyolo");
        root_ = fs::canonical(root_);
        project_ = (root_ / "project").string();
        home_ = (root_ / "home").string();
    }
    void TearDown() override { fs::remove_all(root_); }

    std::vector<std::string> findings(const std::string &toml) const {
        ConfigLayer layer = parse_config_text(toml, project_ + "/.rustyolo.toml", Source::project_file);
        return paths_into_project(layer, project_, home_);
    }
    std::string read_error(const fs::path &path) const {
        try {
            read_project_config(path.string());
        } catch (const UsageError &e) {
            return e.what();
        }
        return "";
    }

    fs::path root_;
    std::string project_, home_;
};

TEST_F(ProjectFile, ARegularFileIsReadAndAMissingOneIsNone) {
    const fs::path file = fs::path(project_) / ".rustyolo.toml";
    EXPECT_FALSE(read_project_config(file.string()));
    std::ofstream(file) << "[default]\nagent = \"claude\"\n";
    EXPECT_EQ(read_project_config(file.string()).value(), "[default]\nagent = \"claude\"\n");
}

TEST_F(ProjectFile, AFileOverOneMebibyteIsRefused) {
    const fs::path file = fs::path(project_) / ".rustyolo.toml";
    std::ofstream(file) << std::string((1 << 20) + 1, '#');
    EXPECT_NE(read_error(file).find("is larger than 1048576 bytes"), std::string::npos);
    std::ofstream(file, std::ios::trunc) << std::string(1 << 20, '#');
    EXPECT_EQ(read_project_config(file.string())->size(), std::size_t{1} << 20);
}

TEST_F(ProjectFile, ASymlinkIsRefusedAlsoWhenItPointsInsideTheProject) {
    const fs::path file = fs::path(project_) / ".rustyolo.toml";
    std::ofstream(root_ / "elsewhere.toml") << "[default]\n";
    std::ofstream(fs::path(project_) / "real.toml") << "[default]\n";
    for (const fs::path &target : {root_ / "elsewhere.toml", fs::path("real.toml"), root_ / "missing.toml"}) {
        fs::remove(file);
        fs::create_symlink(target, file);
        EXPECT_NE(read_error(file).find("is a symbolic link"), std::string::npos) << target;
    }
}

TEST_F(ProjectFile, ADirectoryOrAFifoIsRefusedWithoutBlocking) {
    const fs::path file = fs::path(project_) / ".rustyolo.toml";
    fs::create_directory(file);
    EXPECT_NE(read_error(file).find("is not a regular file"), std::string::npos);
    fs::remove(file);
    ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
    EXPECT_NE(read_error(file).find("is not a regular file"), std::string::npos);
}

TEST_F(ProjectFile, PathsInsideTheProjectAreFoundForEveryPathKey) {
    auto found = findings("[runtime]\n"
                          "plugins = [\"./tools/x.so\", \"builtin-name\", \"" + home_ + "/.config/rustyolo/y.so\"]\n"
                          "[default]\n"
                          "volumes = [\"./data:/data\", \"" + home_ + "/.config/rustyolo:/cfg:ro\"]\n"
                          "auth_home = \"" + project_ + "/.auth\"\n"
                          "[security]\n"
                          "seccomp_profile = \"tools/profile.json\"\n"
                          "audit_dir = \"./audit\"\n"
                          "audit_syslog_socket = \"./log.sock\"\n");
    ASSERT_EQ(found.size(), 6u) << ::testing::PrintToString(found);
    EXPECT_EQ(found[0], "plugins entry \"./tools/x.so\" is " + project_ + "/tools/x.so");
    EXPECT_EQ(found[1], "seccomp_profile \"tools/profile.json\" is " + project_ + "/tools/profile.json");
    EXPECT_EQ(found[2], "volumes entry \"./data:/data\": its host path \"./data\" is " + project_ + "/data");
    EXPECT_EQ(found[3], "auth_home \"" + project_ + "/.auth\" is " + project_ + "/.auth");
    EXPECT_EQ(found[4], "audit_dir \"./audit\" is " + project_ + "/audit");
    EXPECT_EQ(found[5], "audit_syslog_socket \"./log.sock\" is " + project_ + "/log.sock");
}

TEST_F(ProjectFile, APathOutsideThatLeadsInsideThroughALinkIsFound) {
    fs::create_directory_symlink(fs::path(project_) / "tools", fs::path(home_) / "tools-link");
    auto found = findings("[security]\nseccomp_profile = \"~/tools-link/p.json\"\n");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], "seccomp_profile \"~/tools-link/p.json\" is " + project_ + "/tools/p.json");
    // And a path inside that leads outside through a link is still inside: the link can be re-pointed.
    fs::create_directory_symlink(fs::path(home_) / ".config", fs::path(project_) / "cfg-link");
    EXPECT_EQ(findings("[security]\nseccomp_profile = \"cfg-link/p.json\"\n").size(), 1u);
}

TEST_F(ProjectFile, PathsOutsideTheProjectAndKeywordsAreNotFindings) {
    EXPECT_TRUE(findings("[runtime]\nplugins = [\"" + home_ + "/.config/rustyolo/y.so\", \"name\"]\n"
                         "[default]\nvolumes = [\"~/.config/rustyolo:/cfg\", \"" + root_.string() + "/projectx:/x\"]\n"
                         "[security]\nseccomp_profile = \"default\"\n")
                    .empty());
    EXPECT_TRUE(findings("[security]\nseccomp_profile = \"none\"\n").empty());
}

TEST_F(ProjectFile, PathsInAReadWriteVolumeAreFoundExceptForVolumesAndTheAuthHome) {
    fs::create_directories(root_ / "shared");
    const std::string shared = (root_ / "shared").string();
    ConfigLayer layer = parse_config_text("[default]\nvolumes = [\"" + shared + ":/s\"]\nauth_home = \"" + shared +
                                              "/auth\"\n[security]\nseccomp_profile = \"" + shared +
                                              "/p.json\"\naudit_dir = \"" + shared + "/audit\"\n[runtime]\n"
                                              "plugins = [\"" + shared + "/x.so\"]\n",
                                          project_ + "/.rustyolo.toml", Source::project_file);
    const std::vector<std::string> writable = read_write_volume_dirs({layer}, home_, project_);
    ASSERT_EQ(writable, std::vector<std::string>{shared});
    const std::vector<std::string> found = paths_into_project(layer, project_, home_, writable);
    ASSERT_EQ(found.size(), 3u) << ::testing::PrintToString(found);
    EXPECT_EQ(found[0], "plugins entry \"" + shared + "/x.so\" is " + shared + "/x.so, in the read-write volume " +
                            shared);
    EXPECT_NE(found[1].find("seccomp_profile"), std::string::npos);
    EXPECT_NE(found[2].find("audit_dir"), std::string::npos);
    // Twin: read-only, the same volume is no finding.
    layer.volumes = {shared + ":/s:ro"};
    EXPECT_TRUE(read_write_volume_dirs({layer}, home_, project_).empty());
    EXPECT_TRUE(paths_into_project(layer, project_, home_, read_write_volume_dirs({layer}, home_, project_)).empty());
}

TEST_F(ProjectFile, TheErrorNamesEveryFindingAndWhatToDo) {
    std::string message = paths_into_project_error("/p/.rustyolo.toml", {"a is /p/a", "b is /p/b"});
    EXPECT_NE(message.find("refused even when trusted"), std::string::npos);
    EXPECT_NE(message.find("\n  - a is /p/a\n  - b is /p/b\n"), std::string::npos);
    EXPECT_NE(message.find("Move those files to a directory that no session mounts read-write"), std::string::npos);
}

}  // namespace
}  // namespace rustyolo
