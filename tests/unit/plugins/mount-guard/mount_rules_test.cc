#include "plugins/mount-guard/mount_rules.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <string>
#include <vector>

namespace rustyolo::mount_guard {
namespace {

constexpr const char *home = "/home/u";

MountRequest request(std::string source, std::string file_type = "directory", bool readonly = false) {
    MountRequest r;
    r.source = std::move(source);
    r.requested = r.source;
    r.target = "/data";
    r.readonly = readonly;
    r.file_type = std::move(file_type);
    r.home = home;
    return r;
}

// Expects every path to be refused by `rule`, as a directory, as missing, read-write and read-only.
void expect_refused(const std::vector<std::string> &paths, const std::string &rule) {
    for (const std::string &path : paths) {
        for (const char *type : {"directory", "missing"}) {
            for (bool readonly : {false, true}) {
                SCOPED_TRACE(path + " " + type + (readonly ? " ro" : " rw"));
                MountVerdict verdict = judge_mount(request(path, type, readonly));
                EXPECT_FALSE(verdict.allowed);
                EXPECT_EQ(verdict.rule, rule) << verdict.reason;
                EXPECT_NE(verdict.reason.find("\"" + path + "\""), std::string::npos) << verdict.reason;
            }
        }
    }
}

void expect_allowed(const std::vector<std::string> &paths) {
    for (const std::string &path : paths) {
        SCOPED_TRACE(path);
        MountVerdict verdict = judge_mount(request(path));
        EXPECT_TRUE(verdict.allowed) << verdict.rule << ": " << verdict.reason;
    }
}

TEST(MountRules, NormalProjectDirectoryIsAllowed) {
    MountVerdict verdict = judge_mount(request("/home/u/projects/app"));
    EXPECT_TRUE(verdict.allowed);
    EXPECT_EQ(verdict.rule, "allow");
}

TEST(MountRules, RegularFileAndMissingPathInProjectAreAllowed) {
    EXPECT_TRUE(judge_mount(request("/home/u/projects/app/notes.txt", "regular")).allowed);
    EXPECT_TRUE(judge_mount(request("/home/u/projects/app/new-dir", "missing")).allowed);
}

TEST(MountRules, SocketsAreRefusedAnywhereEvenReadOnly) {
    for (bool readonly : {false, true}) {
        MountVerdict verdict = judge_mount(request("/home/u/projects/app/innocent", "socket", readonly));
        EXPECT_FALSE(verdict.allowed);
        EXPECT_EQ(verdict.rule, "socket");
        EXPECT_NE(verdict.reason.find("no override"), std::string::npos) << verdict.reason;
    }
}

TEST(MountRules, SocketReachedThroughSymlinkNamesBothSpellings) {
    MountRequest r = request("/var/run/docker.sock", "socket");
    r.requested = "/home/u/projects/app/innocent";
    MountVerdict verdict = judge_mount(r);
    EXPECT_FALSE(verdict.allowed);
    EXPECT_EQ(verdict.rule, "socket");
    EXPECT_NE(verdict.reason.find("/home/u/projects/app/innocent"), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.reason.find("resolves to \"/var/run/docker.sock\""), std::string::npos) << verdict.reason;
}

TEST(MountRules, DevicesAreRefusedEvenReadOnly) {
    MountVerdict verdict = judge_mount(request("/home/u/projects/disk", "device", true));
    EXPECT_FALSE(verdict.allowed);
    EXPECT_EQ(verdict.rule, "device");
}

TEST(MountRules, FifosAreRefused) {
    MountVerdict verdict = judge_mount(request("/home/u/projects/pipe", "fifo"));
    EXPECT_FALSE(verdict.allowed);
    EXPECT_EQ(verdict.rule, "fifo");
}

TEST(MountRules, UnknownFileTypesAreRefused) {
    for (const char *type : {"other", "", "whiteout"}) {
        SCOPED_TRACE(type);
        MountVerdict verdict = judge_mount(request("/home/u/projects/thing", type));
        EXPECT_FALSE(verdict.allowed);
        EXPECT_EQ(verdict.rule, "file-type");
    }
}

TEST(MountRules, UnresolvedSymlinkIsRefusedAsNotCanonical) {
    MountVerdict verdict = judge_mount(request("/home/u/projects/link", "symlink"));
    EXPECT_FALSE(verdict.allowed);
    EXPECT_EQ(verdict.rule, "not-canonical");
}

TEST(MountRules, NonCanonicalSourcesAreRefused) {
    for (const char *source : {"", "relative/dir", "/home/u/../u/x", "/home//u/x", "/home/u/./x", "/home/u/"}) {
        SCOPED_TRACE(source);
        MountVerdict verdict = judge_mount(request(source));
        EXPECT_FALSE(verdict.allowed);
        EXPECT_EQ(verdict.rule, "not-canonical");
    }
}

TEST(MountRules, ContainerEngineSocketsAndDirectoriesAreRefusedEvenWhenMissing) {
    expect_refused({"/var/run/docker.sock", "/run/docker.sock", "/run/docker", "/var/run/docker",
                    "/run/containerd", "/run/containerd/containerd.sock", "/var/run/containerd", "/run/podman",
                    "/run/podman/podman.sock", "/var/run/podman", "/run/crio/crio.sock", "/run/buildkit",
                    "/run/user/1000/docker.sock", "/run/user/1000/podman", "/run/user/1000/podman/podman.sock",
                    "/home/u/.docker/run/docker.sock", "/home/u/.colima/default/docker.sock", "/home/u/.rd",
                    "/home/u/.local/share/containers/storage"},
                   "engine-socket");
}

TEST(MountRules, UserRuntimeDirectoryIsRefusedWhole) {
    expect_refused({"/run/user/1000", "/run/user/1000/bus", "/run/user/1000/gnupg/S.gpg-agent.ssh",
                    "/run/user/1000/keyring/ssh", "/run/user/0"},
                   "user-runtime-dir");
}

TEST(MountRules, SshAgentSocketDirectoriesAreRefused) {
    expect_refused({"/tmp/ssh-XXXXabcd", "/tmp/ssh-XXXXabcd/agent.1234"}, "ssh-agent");
}

TEST(MountRules, RustyolosRuntimeDirectoryIsRefusedEvenReadOnly) {
    expect_refused({"/tmp/rustyolo-1000", "/tmp/rustyolo-1000/control", "/tmp/rustyolo-0/control/abc.sock"},
                   "rustyolo-runtime");
    EXPECT_TRUE(judge_mount(request("/tmp/rustyolox")).allowed);
    EXPECT_TRUE(judge_mount(request("/tmp/rustyolo-plan-42/project")).allowed);  // not a uid
    EXPECT_TRUE(judge_mount(request("/tmp/project")).allowed);
}

TEST(MountRules, X11SocketDirectoryIsRefused) { expect_refused({"/tmp/.X11-unix"}, "display-socket"); }

TEST(MountRules, SensitiveRootsAndAnythingInsideAreRefused) {
    expect_refused({"/", "/proc", "/proc/self", "/proc/1/root", "/sys", "/sys/kernel", "/dev", "/dev/shm",
                    "/boot", "/boot/grub", "/etc", "/etc/ssl/certs", "/root", "/root/project", "/var/run",
                    "/var/run/dbus", "/run", "/run/systemd", "/var/lib/docker", "/var/lib/docker/volumes/x",
                    "/var/lib/containerd", "/var/lib/containers", "/var/lib/containers/storage"},
                   "sensitive-root");
}

TEST(MountRules, SecretDirectoriesAndTheirContentsAreRefusedEvenReadOnly) {
    // ~/.ssh:ro is refused too: reading the private keys is the harm.
    expect_refused({"/home/u/.ssh", "/home/u/.ssh/id_ed25519", "/home/u/.gnupg", "/home/u/.gnupg/private-keys-v1.d",
                    "/home/u/.aws", "/home/u/.aws/credentials", "/home/u/.kube/config", "/home/u/.docker",
                    "/home/u/.docker/config.json", "/home/u/.config/gcloud", "/home/u/.azure", "/home/u/.netrc",
                    "/home/u/.password-store", "/home/u/.local/share/keyrings"},
                   "secret-dir");
}

TEST(MountRules, SecretDirectoryReasonSaysThereIsNoOverride) {
    MountVerdict verdict = judge_mount(request("/home/u/.ssh", "directory", true));
    EXPECT_NE(verdict.reason.find("SSH keys"), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.reason.find("even read-only"), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.reason.find("no override"), std::string::npos) << verdict.reason;
}

TEST(MountRules, AncestorsOfSecretDirectoriesAreRefused) {
    expect_refused({"/home/u", "/home", "/home/u/.config", "/home/u/.local", "/home/u/.local/share"}, "secret-dir");
}

TEST(MountRules, AncestorReasonNamesWhatItWouldExpose) {
    MountVerdict verdict = judge_mount(request("/home"));
    EXPECT_NE(verdict.reason.find("contains your SSH keys directory (~/.ssh)"), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.reason.find("narrower directory"), std::string::npos) << verdict.reason;
}

TEST(MountRules, AncestorsOfEngineAndSystemPathsAreRefused) {
    for (const char *path : {"/var", "/var/lib", "/tmp"}) {
        SCOPED_TRACE(path);
        MountVerdict verdict = judge_mount(request(path));
        EXPECT_FALSE(verdict.allowed) << verdict.reason;
        EXPECT_NE(verdict.reason.find("contains"), std::string::npos) << verdict.reason;
    }
}

TEST(MountRules, ComparisonIsByComponentNotStringPrefix) {
    expect_allowed({"/procfs", "/system", "/devices", "/boots", "/etcetera", "/rooted", "/runner", "/homes/x",
                    "/var/lib/dockerfiles", "/var/runtime", "/home/u/.sshx", "/home/u/.ssh-backup",
                    "/home/u/.awsome", "/home/u/.config/gcloudy", "/home/u/.dockerignore", "/home/u/.netrc.d",
                    "/home/uu", "/home/uu/project", "/tmp/sshfoo", "/tmp/project"});
}

TEST(MountRules, HomeRelativeRulesFollowTheGivenHome) {
    MountRequest r = request("/srv/users/bob/.ssh");
    r.home = "/srv/users/bob";
    EXPECT_EQ(judge_mount(r).rule, "secret-dir");
    r.source = "/srv";
    EXPECT_EQ(judge_mount(r).rule, "secret-dir");
    r.source = "/srv/users/bob/code";
    EXPECT_TRUE(judge_mount(r).allowed);
}

TEST(MountRules, HomeWithTrailingSlashIsNormalised) {
    MountRequest r = request("/home/u/.ssh");
    r.home = "/home/u/";
    EXPECT_EQ(judge_mount(r).rule, "secret-dir");
}

TEST(MountRules, UnknownHomeStillRefusesSystemPaths) {
    MountRequest r = request("/etc");
    r.home = "";
    EXPECT_EQ(judge_mount(r).rule, "sensitive-root");
    r.source = "/home/u/project";
    EXPECT_TRUE(judge_mount(r).allowed);
}

TEST(MountRules, ReservedOrMalformedTargetsAreRefused) {
    for (const char *target : {"/", "relative", "/proc", "/proc/x", "/sys", "/dev/shm", "/etc", "/etc/hosts",
                               "/run/rustyolo", "/run/rustyolo/audit.sock", "/app/../etc", "/app/", "/usr",
                               "/usr/lib", "/usr/lib/rustyolo/plugins", "/lib", "/lib64", "/usr/sbin", "/sbin",
                               "/run",
                               // through the image's links (/var/run -> /run, /usr/bin/ld.so -> /usr/lib/...)
                               "/var/run", "/var/run/rustyolo", "/usr/bin", "/usr/bin/ld.so", "/bin"}) {
        SCOPED_TRACE(target);
        MountRequest r = request("/home/u/projects/app");
        r.target = target;
        MountVerdict verdict = judge_mount(r);
        EXPECT_FALSE(verdict.allowed);
        EXPECT_EQ(verdict.rule, "target");
    }
}

TEST(MountRules, EveryRefusalHasAReason) {
    for (const char *path : {"/", "/home", "/run/docker.sock", "/tmp/ssh-abc", "/home/u/.aws"}) {
        SCOPED_TRACE(path);
        MountVerdict verdict = judge_mount(request(path));
        EXPECT_FALSE(verdict.allowed);
        EXPECT_FALSE(verdict.rule.empty());
        EXPECT_GT(verdict.reason.size(), 40u);
    }
}

}  // namespace
}  // namespace rustyolo::mount_guard

namespace rustyolo::mount_guard {
namespace {

MountRequest root_request(std::string source) {
    MountRequest r = request(std::move(source));
    r.home = "/root";
    return r;
}

TEST(MountRules, RootUsersHomeSubdirectoriesAreJudgedLikeAnyHome) {
    EXPECT_TRUE(judge_mount(root_request("/root/project")).allowed);
    EXPECT_TRUE(judge_mount(root_request("/root/.config/rustyolo/claude")).allowed);
}

TEST(MountRules, RootUsersSecretsAndHomeStayRefused) {
    MountVerdict ssh = judge_mount(root_request("/root/.ssh"));
    EXPECT_FALSE(ssh.allowed);
    EXPECT_EQ(ssh.rule, "secret-dir");
    EXPECT_FALSE(judge_mount(root_request("/root")).allowed);  // contains /root/.ssh
}

TEST(MountRules, RootHomeIsRefusedForOtherUsers) {
    EXPECT_FALSE(judge_mount(request("/root/project")).allowed);
}

}  // namespace
}  // namespace rustyolo::mount_guard

// --- live Unix sockets ------------------------------------------------------------------------

namespace rustyolo::mount_guard {
namespace {

MountRequest with_sockets(std::string source, std::vector<std::string> sockets, bool readonly = false) {
    MountRequest r = request(std::move(source), "directory", readonly);
    r.bound_sockets = std::move(sockets);
    return r;
}

TEST(MountRules, ADirectoryHoldingALiveSocketIsRefusedEvenReadOnly) {
    for (bool readonly : {false, true}) {
        for (const char *source : {"/tmp/tmux-1000", "/srv", "/srv/work"}) {
            SCOPED_TRACE(std::string(source) + (readonly ? " ro" : " rw"));
            MountVerdict verdict =
                judge_mount(with_sockets(source, {"/run/x.sock", "/tmp/tmux-1000/default", "/srv/work/a/b.sock"},
                                         readonly));
            EXPECT_FALSE(verdict.allowed);
            EXPECT_EQ(verdict.rule, "live-socket") << verdict.reason;
            EXPECT_NE(verdict.reason.find("holds the Unix socket"), std::string::npos) << verdict.reason;
        }
    }
}

TEST(MountRules, SocketsElsewhereOrUnderTheSessionDirectoryDoNotCount) {
    // Components, not string prefixes: /tmp/tmux-10000 is not under /tmp/tmux-1000.
    EXPECT_TRUE(judge_mount(with_sockets("/tmp/tmux-1000", {"/tmp/tmux-10000/default", "/tmp/x.sock"})).allowed);
    // A directory name with glob characters matches only itself.
    EXPECT_TRUE(judge_mount(with_sockets("/srv/*", {"/srv/other/x.sock"})).allowed);
    MountRequest session = with_sockets("/run/user/1000/rustyolo/abc", {"/run/user/1000/rustyolo/abc/ssh.sock"});
    session.source = "/srv/rustyolo/abc";
    session.bound_sockets = {"/srv/rustyolo/abc/agent.sock"};
    session.session_dir = "/srv/rustyolo/abc";
    EXPECT_TRUE(judge_mount(session).allowed) << judge_mount(session).reason;
    // Another session's directory is not exempt.
    session.session_dir = "/srv/rustyolo/other";
    EXPECT_EQ(judge_mount(session).rule, "live-socket");
}

TEST(MountRules, LiveSocketsInTheProjectAreAWarningNotARefusal) {
    MountRequest project = with_sockets("/srv/work", {"/srv/work/tmp/pg/.s.PGSQL.5432", "/srv/other.sock"});
    project.origin = "project";
    MountVerdict verdict = judge_mount(project);
    EXPECT_TRUE(verdict.allowed) << verdict.reason;
    ASSERT_EQ(verdict.warnings.size(), 1u);
    EXPECT_NE(verdict.warnings[0].find("\"/srv/work/tmp/pg/.s.PGSQL.5432\""), std::string::npos);
    EXPECT_EQ(verdict.warnings[0].find("other.sock"), std::string::npos);
    // Without a socket inside: no warning.
    project.bound_sockets = {"/srv/other.sock"};
    EXPECT_TRUE(judge_mount(project).warnings.empty());
    // The same directory as a volume is refused.
    project.origin = "volume";
    project.bound_sockets = {"/srv/work/tmp/pg/.s.PGSQL.5432"};
    EXPECT_EQ(judge_mount(project).rule, "live-socket");
}

TEST(MountRules, BoundSocketPathsAreReadFromTheKernelsListing) {
    std::istringstream listing(
        "Num       RefCount Protocol Flags    Type St Inode Path\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 23456 /run/systemd/notify\n"
        "0000000000000000: 00000002 00000000 00000000 0002 01 23457 @/tmp/.X11-unix/X0\n"
        "0000000000000000: 00000003 00000000 00000000 0001 03 23458\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 23459 /tmp/dir with space/s.sock\n"
        "0000000000000000: 00000003 00000000 00000000 0001 03 23460 /run/systemd/notify\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 23461 relative.sock\n");
    EXPECT_EQ(bound_socket_paths(listing),
              (std::vector<std::string>{"/run/systemd/notify", "/tmp/dir with space/s.sock"}));
}

TEST(MountRules, ALiveSocketBoundNowIsListedAndAStaleOneIsNot) {
    const std::string dir = "/tmp/live-socket-test-" + std::to_string(::getpid());
    ::mkdir(dir.c_str(), 0700);
    const std::string path = dir + "/default";
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    std::vector<std::string> live = live_socket_paths();
    EXPECT_NE(std::find(live.begin(), live.end(), path), live.end());
    MountRequest r = request(dir);
    r.bound_sockets = live;
    EXPECT_EQ(judge_mount(r).rule, "live-socket");
    // The name removed: the socket still listens but cannot be reached through the mount.
    ::unlink(path.c_str());
    live = live_socket_paths();
    EXPECT_EQ(std::find(live.begin(), live.end(), path), live.end());
    ::close(fd);
    ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace rustyolo::mount_guard
