#include "plugins/mount-guard/mount_rules.hpp"

#include <gtest/gtest.h>

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
                               "/run/rustyolo", "/run/rustyolo/audit.sock", "/app/../etc", "/app/"}) {
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
