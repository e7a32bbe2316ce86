#include "core/config/mount_spec.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, by its canonical path, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "rustyolo-mountspec-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = fs::canonical(pattern).string();
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const std::string &path() const { return path_; }
    std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

class MountSpecTest : public ::testing::Test {
protected:
    void mkdir(const std::string &name) { fs::create_directories(dir / name); }
    void touch(const std::string &name) { std::ofstream(dir / name) << "x"; }
    void symlink(const std::string &target, const std::string &name) {
        fs::create_symlink(target, dir / name);
    }
    // Binds a real Unix socket at `name` (the socket file stays after the fd is closed).
    void make_socket(const std::string &name) {
        std::string path = dir / name;
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        ASSERT_LT(path.size(), sizeof address.sun_path);
        std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0) << std::strerror(errno);
        ::close(fd);
    }
    MountSpec parse(const std::string &spec) { return parse_mount_spec(spec, dir / "home", dir.path()); }
    // The message of the UsageError that parsing `spec` throws ("" when it does not throw).
    std::string error_of(const std::string &spec) {
        try {
            parse(spec);
        } catch (const UsageError &e) {
            return e.what();
        }
        return "";
    }

    TempDir dir;
};

TEST_F(MountSpecTest, TrickySpellingsOfProcCanonicaliseToProc) {
    for (const char *path : {"/proc/", "//proc", "/./proc", "///proc//", "/proc/.", "/sys/../proc",
                             "/nonexistent-rustyolo-dir/../proc", "/nonexistent-a/nonexistent-b/../../proc"}) {
        SCOPED_TRACE(path);
        EXPECT_EQ(canonicalize_path(path), "/proc");
    }
}

TEST_F(MountSpecTest, TrickyProcSpecsParseToProcAsSource) {
    for (const char *spec : {"/proc/:/x", "//proc:/x", "/./proc:/x", "/nonexistent-rustyolo-dir/../proc:/x"}) {
        SCOPED_TRACE(spec);
        MountSpec mount = parse(spec);
        EXPECT_EQ(mount.source, "/proc");
        EXPECT_EQ(mount.file_type, "directory");
    }
}

TEST_F(MountSpecTest, ProcSelfRootResolvesToTheRootItPointsAt) {
    EXPECT_EQ(canonicalize_path("/proc/self/root"), "/");
}

TEST_F(MountSpecTest, ProcPidRootIsEitherResolvedOrRefusedNeverLeftUnresolved) {
    // As root on a host it reads as "/"; where reading the link is denied, parsing fails.
    try {
        EXPECT_EQ(parse("/proc/1/root:/x").source, "/");
    } catch (const UsageError &e) {
        EXPECT_NE(std::string(e.what()).find("/proc/1/root"), std::string::npos) << e.what();
    }
}

TEST_F(MountSpecTest, RootOfTheFilesystemStaysRoot) {
    EXPECT_EQ(canonicalize_path("/"), "/");
    EXPECT_EQ(canonicalize_path("//"), "/");
    EXPECT_EQ(canonicalize_path("/.."), "/");
}

TEST_F(MountSpecTest, RelativeHostPathIsTakenFromCwd) {
    mkdir("project/src");
    MountSpec mount = parse_mount_spec("src:/src", "/nonexistent-home", dir / "project");
    EXPECT_EQ(mount.source, dir / "project/src");
    EXPECT_EQ(mount.file_type, "directory");
}

TEST_F(MountSpecTest, DotRelativeHostPathIsTakenFromCwd) {
    mkdir("project");
    EXPECT_EQ(parse_mount_spec(".:/app", "/nonexistent-home", dir / "project").source, dir / "project");
    EXPECT_EQ(parse_mount_spec("./:/app", "/nonexistent-home", dir / "project").source, dir / "project");
}

TEST_F(MountSpecTest, DotDotRelativeHostPathClimbsFromCwd) {
    mkdir("project");
    mkdir("shared");
    EXPECT_EQ(parse_mount_spec("../shared:/shared", "/nonexistent-home", dir / "project").source, dir / "shared");
}

TEST_F(MountSpecTest, TildeAloneExpandsToHome) {
    mkdir("home");
    EXPECT_EQ(parse("~:/h").source, dir / "home");
}

TEST_F(MountSpecTest, TildeSlashExpandsUnderHome) {
    mkdir("home/.ssh");
    MountSpec mount = parse("~/.ssh:/keys:ro");
    EXPECT_EQ(mount.source, dir / "home/.ssh");
    EXPECT_TRUE(mount.readonly);
}

TEST_F(MountSpecTest, TildeUserIsRejected) {
    std::string message = error_of("~bob/x:/x");
    EXPECT_NE(message.find("~user"), std::string::npos) << message;
    EXPECT_NE(message.find("~bob/x:/x"), std::string::npos) << message;
}

TEST_F(MountSpecTest, TildeWithoutKnownHomeIsRejected) {
    EXPECT_THROW(parse_mount_spec("~/x:/x", "", dir.path()), UsageError);
    EXPECT_THROW(parse_mount_spec("~/x:/x", "relative/home", dir.path()), UsageError);
}

TEST_F(MountSpecTest, RelativePathWithoutKnownCwdIsRejected) {
    EXPECT_THROW(parse_mount_spec("x:/x", "/home/u", ""), UsageError);
}

TEST_F(MountSpecTest, SymlinkToSocketResolvesToTheSocket) {
    make_socket("engine.sock");
    symlink(dir / "engine.sock", "innocent");
    MountSpec mount = parse("innocent:/data");
    EXPECT_EQ(mount.source, dir / "engine.sock");
    EXPECT_EQ(mount.file_type, "socket");
}

TEST_F(MountSpecTest, RelativeSymlinkChainToSocketResolvesToTheSocket) {
    mkdir("run");
    make_socket("run/docker.sock");
    symlink("run/docker.sock", "one");
    symlink("one", "two");
    symlink("./two", "three");
    MountSpec mount = parse("three:/data");
    EXPECT_EQ(mount.source, dir / "run/docker.sock");
    EXPECT_EQ(mount.file_type, "socket");
}

TEST_F(MountSpecTest, SymlinkChainToDirectoryIsFollowed) {
    mkdir("real/dir");
    symlink(dir / "real", "a");
    symlink("a/dir", "b");
    symlink(dir / "b", "c");
    EXPECT_EQ(parse("c:/data").source, dir / "real/dir");
}

TEST_F(MountSpecTest, DotDotAfterSymlinkClimbsFromTheLinkTarget) {
    mkdir("deep/inner");
    symlink(dir / "deep/inner", "link");
    // The kernel resolves "link" before "..": the parent is deep/, not the temp dir.
    EXPECT_EQ(parse("link/..:/data").source, dir / "deep");
}

TEST_F(MountSpecTest, MissingTailIsAppendedAfterLexicalNormalisation) {
    MountSpec mount = parse("missing/./a//b/../c:/data");
    EXPECT_EQ(mount.source, dir / "missing/a/c");
    EXPECT_EQ(mount.file_type, "missing");
}

TEST_F(MountSpecTest, MissingTailUnderSymlinkResolvesTheSymlink) {
    mkdir("real");
    symlink(dir / "real", "link");
    EXPECT_EQ(parse("link/new/file:/data").source, dir / "real/new/file");
}

TEST_F(MountSpecTest, DotDotOutOfMissingPartResumesResolution) {
    mkdir("real");
    symlink(dir / "real", "link");
    EXPECT_EQ(parse("missing/../link:/data").source, dir / "real");
}

TEST_F(MountSpecTest, DanglingSymlinkResolvesToItsTargetText) {
    symlink("/proc/nonexistent-rustyolo-entry/x", "dangling");
    MountSpec mount = parse("dangling:/data");
    EXPECT_EQ(mount.source, "/proc/nonexistent-rustyolo-entry/x");
    EXPECT_EQ(mount.file_type, "missing");
}

TEST_F(MountSpecTest, DanglingSymlinkToProcThroughDotDotResolvesToProc) {
    symlink("/nonexistent-rustyolo-dir/../proc", "sneaky");
    EXPECT_EQ(parse("sneaky:/data").source, "/proc");
}

TEST_F(MountSpecTest, SymlinkLoopIsRejected) {
    symlink(dir / "b", "a");
    symlink(dir / "a", "b");
    std::string message = error_of("a:/data");
    EXPECT_NE(message.find("symlink"), std::string::npos) << message;
}

TEST_F(MountSpecTest, CanonicalizeRejectsRelativePaths) {
    EXPECT_THROW(canonicalize_path("relative/path"), UsageError);
    EXPECT_THROW(canonicalize_path(""), UsageError);
}

TEST_F(MountSpecTest, ReportsFileTypeOfTheFinalTarget) {
    mkdir("d");
    touch("f");
    make_socket("s");
    ASSERT_EQ(::mkfifo((dir / "p").c_str(), 0600), 0);
    symlink(dir / "f", "link-to-file");
    struct Case {
        std::string host;
        std::string type;
    };
    for (const Case &c : std::vector<Case>{{dir / "d", "directory"},
                                           {dir / "f", "regular"},
                                           {dir / "s", "socket"},
                                           {dir / "p", "fifo"},
                                           {"/dev/null", "device"},
                                           {dir / "link-to-file", "regular"},
                                           {dir / "nothing", "missing"}}) {
        SCOPED_TRACE(c.host);
        EXPECT_EQ(parse(c.host + ":/data").file_type, c.type);
    }
}

TEST_F(MountSpecTest, ReadWriteIsTheDefault) {
    EXPECT_FALSE(parse("/tmp:/data").readonly);
    EXPECT_FALSE(parse("/tmp:/data:rw").readonly);
}

TEST_F(MountSpecTest, RoOptionMakesTheMountReadOnly) { EXPECT_TRUE(parse("/tmp:/data:ro").readonly); }

TEST_F(MountSpecTest, KeepsTheSpecAsRequestedAndTheTarget) {
    MountSpec mount = parse("/tmp/:/data:ro");
    EXPECT_EQ(mount.requested, "/tmp/:/data:ro");
    EXPECT_EQ(mount.target, "/data");
}

TEST_F(MountSpecTest, UnknownOptionsAreRejectedNamingTheOption) {
    for (const char *option : {"readonly", "RO", "z", "Z", "ro,z", "cached", "delegated", ""}) {
        SCOPED_TRACE(option);
        std::string message = error_of(std::string("/tmp:/data:") + option);
        EXPECT_NE(message.find("unknown option \"" + std::string(option) + "\""), std::string::npos) << message;
        EXPECT_NE(message.find(":ro"), std::string::npos) << message;
    }
}

TEST_F(MountSpecTest, MalformedSpecsAreRejected) {
    for (const char *spec : {"", "/tmp", ":/data", "/tmp:", "/tmp:/data:ro:extra", "/a:b:/c:ro", "/tmp:/da\nta"}) {
        SCOPED_TRACE(spec);
        EXPECT_THROW(parse(spec), UsageError);
    }
}

TEST_F(MountSpecTest, ErrorsNameTheSpec) {
    std::string message = error_of("/tmp:/data:bogus");
    EXPECT_NE(message.find("\"/tmp:/data:bogus\""), std::string::npos) << message;
}

TEST_F(MountSpecTest, BadTargetsAreRejectedNamingTheTarget) {
    for (const char *target : {"data", "./data", "/", "/proc", "/proc/sys", "/sys", "/sys/fs/cgroup", "/dev",
                               "/dev/shm", "/etc", "/etc/passwd", "/run/rustyolo", "/run/rustyolo/plan.json",
                               "/app/../etc", "/app/", "//app", "/app/./x", "/app//x", "/a,b",
                               // the system's programs and libraries the supervisor loads, and above them
                               "/usr", "/usr/lib", "/usr/lib/rustyolo", "/usr/lib/x86_64-linux-gnu", "/usr/lib64",
                               "/usr/sbin", "/lib", "/lib64", "/sbin", "/run"}) {
        SCOPED_TRACE(target);
        std::string message = error_of(std::string("/tmp:") + target);
        ASSERT_FALSE(message.empty()) << "accepted";
        if (std::string(target) != "/") {
            EXPECT_NE(message.find("\"" + std::string(target) + "\""), std::string::npos) << message;
        }
    }
}

TEST_F(MountSpecTest, TargetsThatOnlyShareAPrefixWithReservedPathsAreAccepted) {
    for (const char *target : {"/procfs", "/system", "/devices", "/etcetera", "/run/rustyolo-data", "/run/other",
                               "/data", "/home/agent/.cache", "/app/vendor", "/usr/local/tools", "/usr/share/x",
                               "/usr/library", "/opt/lib", "/usr/bin/tool"}) {
        SCOPED_TRACE(target);
        EXPECT_EQ(parse(std::string("/tmp:") + target).target, target);
    }
}

TEST_F(MountSpecTest, NonNormalTargetErrorSuggestsTheNormalForm) {
    std::string message = error_of("/tmp:/app/");
    EXPECT_NE(message.find("write it as /app"), std::string::npos) << message;
}

}  // namespace
}  // namespace rustyolo
