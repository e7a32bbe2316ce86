#include "plugins/runtime-docker/docker_argv.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace rustyolo::docker {
namespace {

LaunchRequest request() {
    LaunchRequest r;
    r.plan.session = "abc123";
    r.plan.image = "rustyolo:latest";
    r.plan.agent = PlanAgent{"claude", "agent-claude", {"claude"}};
    r.plan.user = PlanUser{1000, 1000, "agent", "/home/agent"};
    r.plan.mounts = {PlanMount{"/home/u/p", "/app", false, "project", "", false, ""},
                     PlanMount{"/home/u/p/.envrc", "/app/.envrc", true, "protect", "", false, ""}};
    r.plan.resources.memory_bytes = 1073741824;
    r.plan.resources.cpus = 1.5;
    r.plan.resources.pids = 128;
    r.plan.env = {PlanEnv{"ANTHROPIC_API_KEY", std::nullopt}, PlanEnv{"FOO", "bar"}};
    r.plan_file = "/run/user/1000/rustyolo/abc123/plan.json";
    r.session_dir = "/run/user/1000/rustyolo/abc123";
    r.resolv_conf_file = "/run/user/1000/rustyolo/abc123/resolv.conf";
    return r;
}

// True when `argv` contains `flag` immediately followed by `value`.
bool has_pair(const std::vector<std::string> &argv, const std::string &flag, const std::string &value) {
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == flag && argv[i + 1] == value)
            return true;
    return false;
}

TEST(DockerArgv, DropsEveryCapabilityButTheSupervisors) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--cap-drop", "ALL"));
    std::vector<std::string> added;
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == "--cap-add")
            added.push_back(argv[i + 1]);
    EXPECT_EQ(added, supervisor_capabilities());
    EXPECT_TRUE(has_pair(argv, "--security-opt", "no-new-privileges"));
}

TEST(DockerArgv, DisablesIpv6AndAppliesLimits) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--sysctl", "net.ipv6.conf.all.disable_ipv6=1"));
    EXPECT_TRUE(has_pair(argv, "--memory", "1073741824"));
    EXPECT_TRUE(has_pair(argv, "--memory-swap", "1073741824"));
    EXPECT_TRUE(has_pair(argv, "--cpus", "1.5"));
    EXPECT_TRUE(has_pair(argv, "--pids-limit", "128"));
}

TEST(DockerArgv, UnlimitedResourcesAddNoFlags) {
    LaunchRequest r = request();
    r.plan.resources = PlanResources{};
    auto argv = run_argv(r);
    for (const char *flag : {"--memory", "--cpus", "--pids-limit"})
        EXPECT_EQ(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
}

TEST(DockerArgv, MountsAreSingleTokensAndProtectedOnesReadOnly) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--mount", "type=bind,source=/home/u/p,target=/app"));
    EXPECT_TRUE(has_pair(argv, "--mount", "type=bind,source=/home/u/p/.envrc,target=/app/.envrc,readonly"));
    EXPECT_TRUE(has_pair(argv, "--mount",
                         "type=bind,source=/run/user/1000/rustyolo/abc123/plan.json,target=/run/rustyolo/plan.json,"
                         "readonly"));
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "-v"), argv.end());
}

TEST(DockerArgv, PathsDockerCannotExpressAreRefused) {
    LaunchRequest r = request();
    r.plan.mounts[0].source = "/home/u/a,b";
    EXPECT_THROW(run_argv(r), std::invalid_argument);
}

TEST(DockerArgv, SecretsArePassedByNameOnly) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--env", "ANTHROPIC_API_KEY"));
    EXPECT_TRUE(has_pair(argv, "--env", "FOO=bar"));
}

TEST(DockerArgv, TtyOnlyWhenInteractive) {
    LaunchRequest r = request();
    auto argv = run_argv(r);
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "--tty"), argv.end());
    r.interactive = true;
    argv = run_argv(r);
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--tty"), argv.end());
}

TEST(DockerArgv, UniqueNameAndLabelsAndTheImageLast) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--name", "rustyolo-claude-abc123"));
    EXPECT_TRUE(has_pair(argv, "--label", "org.rustyolo.session=abc123"));
    EXPECT_EQ(argv.back(), "rustyolo:latest");
    EXPECT_EQ(argv[0], "docker");
    EXPECT_TRUE(has_pair(argv, "run", "--rm"));
}

TEST(DockerArgv, HomeIsATmpfsOwnedByTheAgent) {
    auto argv = run_argv(request());
    EXPECT_TRUE(has_pair(argv, "--tmpfs", "/home/agent:rw,nosuid,nodev,exec,mode=0700,uid=1000,gid=1000"));
}

TEST(DockerArgv, TheRootIsReadOnlyWithTheRuntimesOwnFilesMounted) {
    LaunchRequest r = request();
    auto argv = run_argv(r);
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--read-only"), argv.end());
    EXPECT_TRUE(has_pair(argv, "--mount", "type=tmpfs,target=/run/rustyolo/supervisor,tmpfs-size=1048576,tmpfs-mode=0755"));
    EXPECT_TRUE(has_pair(argv, "--mount",
                         "type=bind,source=/run/user/1000/rustyolo/abc123/resolv.conf,target=/etc/resolv.conf,readonly"));
    EXPECT_EQ(std::count(argv.begin(), argv.end(), std::string("--mount")), 6);  // no engine resolvers
    r.engine_resolv_conf_file = "/run/user/1000/rustyolo/abc123/engine-resolv.conf";
    argv = run_argv(r);
    EXPECT_TRUE(has_pair(argv, "--mount",
                         "type=bind,source=/run/user/1000/rustyolo/abc123/engine-resolv.conf,"
                         "target=/run/rustyolo/engine-resolv.conf,readonly"));
    r.resolv_conf_file.clear();
    EXPECT_THROW(run_argv(r), std::invalid_argument);
}

TEST(DockerArgv, ScratchTmpfsMountsCarryThePlansSizes) {
    LaunchRequest r = request();
    r.plan.resources.tmp_bytes = 268435456;
    r.plan.resources.home_bytes = 134217728;
    r.plan.resources.shm_bytes = 33554432;
    auto argv = run_argv(r);
    // One inode per page of the size: empty files cannot take more memory than a quarter of it.
    EXPECT_TRUE(has_pair(argv, "--tmpfs",
                         "/home/agent:rw,nosuid,nodev,exec,mode=0700,uid=1000,gid=1000,size=134217728,"
                         "nr_inodes=32768"));
    EXPECT_TRUE(has_pair(argv, "--tmpfs", "/tmp:rw,nosuid,nodev,exec,mode=1777,size=268435456,nr_inodes=65536"));
    EXPECT_TRUE(has_pair(argv, "--tmpfs", "/dev/shm:rw,nosuid,nodev,noexec,mode=1777,size=33554432,nr_inodes=8192"));
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "--shm-size"), argv.end());
}

TEST(DockerArgv, ScratchInodesAreOnePerPageAndNeverZero) {
    EXPECT_EQ(scratch_inodes(1048576), 256);
    EXPECT_EQ(scratch_inodes(4097), 1);
    EXPECT_EQ(scratch_inodes(100), 1);  // nr_inodes=0 would mean no limit
}

TEST(DockerArgv, PodmanUsesTheSameCli) {
    LaunchRequest r = request();
    r.runtime = "podman";
    EXPECT_EQ(run_argv(r)[0], "podman");
}


// A private temporary directory, removed at the end of the test.
struct TempDir {
    std::string path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "rustyolo-argv-XXXXXX").string();
        path = ::mkdtemp(tmpl.data()) ? tmpl : "";
        EXPECT_FALSE(path.empty());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

boost::json::value engine_profile() {
    return boost::json::object{{"defaultAction", "SCMP_ACT_ERRNO"},
                               {"syscalls", boost::json::array{boost::json::object{
                                                {"names", boost::json::array{"mount", "read"}},
                                                {"action", "SCMP_ACT_ALLOW"}}}}};
}

std::string contents(const std::string &path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(DockerArgv, EngineProfileIsPassedAsASecurityOptionOnlyWhenThereIsOne) {
    auto r = request();
    auto argv = run_argv(r);
    EXPECT_EQ(std::count_if(argv.begin(), argv.end(), [](const std::string &a) { return a.rfind("seccomp", 0) == 0; }), 0);
    r.engine_profile_file = "/run/user/1000/rustyolo/abc123/engine-seccomp.json";
    argv = run_argv(r);
    EXPECT_TRUE(has_pair(argv, "--security-opt", "seccomp=/run/user/1000/rustyolo/abc123/engine-seccomp.json"));
    EXPECT_TRUE(has_pair(argv, "--security-opt", "no-new-privileges"));
}

TEST(DockerArgv, EngineProfileIsWrittenAsJsonReadableByTheEngine) {
    TempDir dir;
    auto r = request();
    r.plan.syscalls.engine_profile = engine_profile();
    const std::string path = write_engine_profile(r.plan, dir.path, false);
    EXPECT_EQ(path, dir.path + "/engine-seccomp.json");
    EXPECT_EQ(boost::json::parse(contents(path)), engine_profile());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(DockerArgv, NoEngineProfileWritesNothing) {
    TempDir dir;
    auto r = request();
    EXPECT_EQ(write_engine_profile(r.plan, dir.path, false), "");
    EXPECT_FALSE(std::filesystem::exists(dir.path + "/engine-seccomp.json"));
}

TEST(DockerArgv, EngineProfileIsNeverWrittenOverAnExistingFileOrThroughASymlink) {
    TempDir dir;
    auto r = request();
    r.plan.syscalls.engine_profile = engine_profile();
    const std::string path = dir.path + "/engine-seccomp.json";
    { std::ofstream(path) << "{}"; }
    EXPECT_THROW(write_engine_profile(r.plan, dir.path, false), std::runtime_error);
    EXPECT_EQ(contents(path), "{}");
    // A --dry-run's reused dir: rewritten in place.
    EXPECT_EQ(write_engine_profile(r.plan, dir.path, true), path);
    EXPECT_EQ(boost::json::parse(contents(path)), engine_profile());
    // Never through a symlink, even when rewriting.
    std::filesystem::remove(path);
    const std::string target = dir.path + "/elsewhere";
    { std::ofstream(target) << "untouched"; }
    std::filesystem::create_symlink(target, path);
    EXPECT_THROW(write_engine_profile(r.plan, dir.path, true), std::runtime_error);
    EXPECT_THROW(write_engine_profile(r.plan, dir.path, false), std::runtime_error);
    EXPECT_EQ(contents(target), "untouched");
}

TEST(DockerArgv, EngineProfileNeedsARuntimeDir) {
    auto r = request();
    r.plan.syscalls.engine_profile = engine_profile();
    EXPECT_THROW(write_engine_profile(r.plan, "", false), std::invalid_argument);
}

}  // namespace
}  // namespace rustyolo::docker
