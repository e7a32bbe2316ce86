// The agent's ids (choose_agent_ids) and idmapped clones (IdmappedClone): real mounts in a private
// mount namespace (root only; tests/unit/support/scratch_netns.hpp runs the child).
#include "core/host/idmap.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include "scratch_netns.hpp"

#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

struct stat owned_by(uid_t uid, gid_t gid) {
    struct stat st {};
    st.st_uid = uid;
    st.st_gid = gid;
    return st;
}

GetEnv env_of(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const char *name) -> const char * {
        auto it = values.find(name);
        return it == values.end() ? nullptr : it->second.c_str();
    };
}

// Who calls, who owns the project, SUDO_*: the agent's ids, whether it writes through an idmap,
// the on-disk owner of what it creates, and a word the note must hold ("" = no note).
struct IdsCase {
    const char *property;
    std::uint32_t caller_uid, caller_gid, project_uid, project_gid;
    std::map<std::string, std::string> env;
    std::uint32_t uid, gid;
    bool idmap;
    std::uint32_t owner_uid, owner_gid;
    const char *note;
};

TEST(ChooseAgentIds, TheAgentIsNeverRootAndWritesAsTheProjectsOwner) {
    const IdsCase cases[] = {
        {"an ordinary caller keeps its own ids whoever owns the project", 1500, 1600, 0, 0, {}, 1500, 1600, false,
         1500, 1600, ""},
        {"an ordinary caller with group 0 gets its uid as group", 1500, 0, 1500, 0, {}, 1500, 1500, false, 1500, 1500,
         ""},
        {"root takes the project owner's ids, not SUDO_UID", 0, 0, 1234, 4321, {{"SUDO_UID", "1000"}}, 1234, 4321,
         false, 1234, 4321, "owner, uid 1234"},
        {"root in a project of group 0 gets the owner's uid as group", 0, 0, 1234, 0, {}, 1234, 1234, false, 1234, 1234,
         "owner, uid 1234"},
        {"root in a root-owned project writes through an idmap as 1000", 0, 0, 0, 0, {}, 1000, 1000, true, 0, 0,
         "idmapped"},
        {"root in a root-owned project takes the sudo user's ids", 0, 0, 0, 0, {{"SUDO_UID", "1500"}, {"SUDO_GID", "1600"}},
         1500, 1600, true, 0, 0, "idmapped"},
    };
    for (const IdsCase &c : cases) {
        const AgentIds ids = choose_agent_ids(c.caller_uid, c.caller_gid, owned_by(c.project_uid, c.project_gid),
                                              env_of(c.env));
        EXPECT_EQ(ids.uid, c.uid) << c.property;
        EXPECT_EQ(ids.gid, c.gid) << c.property;
        EXPECT_EQ(ids.idmap, c.idmap) << c.property;
        EXPECT_EQ(ids.owner_uid, c.owner_uid) << c.property;
        EXPECT_EQ(ids.owner_gid, c.owner_gid) << c.property;
        if (*c.note == '\0')
            EXPECT_TRUE(ids.note.empty()) << c.property << ": " << ids.note;
        else
            EXPECT_NE(ids.note.find(c.note), std::string::npos) << c.property << ": " << ids.note;
    }
}

TEST(ChooseAgentIds, ASudoUidThatIsZeroOrNotANumberIsNotTaken) {
    for (const char *bad : {"0", "abc", "12x", "", "4294967295", "-1"}) {
        const AgentIds ids = choose_agent_ids(0, 0, owned_by(0, 0), env_of({{"SUDO_UID", bad}, {"SUDO_GID", bad}}));
        EXPECT_EQ(ids.uid, 1000u) << bad;
        EXPECT_EQ(ids.gid, 1000u) << bad;
    }
}

// --- idmapped clones (root only, in a private mount namespace) --------------------------------------

class IdmappedCloneTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "idmapped mounts need root";
        root_ = fs::temp_directory_path() / ("rustyolo-idmap-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_ / "project" / "sub");
        std::ofstream(root_ / "project" / "roots") << "root\n";
        std::ofstream(root_ / "project" / "others") << "other\n";
        ASSERT_EQ(::chown((root_ / "project" / "others").c_str(), 1234, 1234), 0);
        ::chmod((root_ / "project").c_str(), 0700);
    }
    void TearDown() override {
        if (!root_.empty())
            fs::remove_all(root_);
    }
    std::string identity(const fs::path &p) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0)
            return "";
        return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    }
    // Runs `body` in a child with a private mount namespace (nothing propagates to the host's).
    static std::string in_private_mounts(const std::function<std::string()> &body) {
        return test_support::in_unshared_child(CLONE_NEWNS, [&]() -> std::string {
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
                return "cannot make / private";
            return body();
        });
    }
    fs::path root_;
};

TEST_F(IdmappedCloneTest, RootsFilesShowAsTheAgentsAndWhatTheAgentCreatesLandsAsRoots) {
    const std::string project = (root_ / "project").string();
    const std::string mp = (root_ / "clone").string();
    const std::string id = identity(project);
    const std::string result = in_private_mounts([&]() -> std::string {
        IdmappedClone clone(project, id, mp, 1000, 1001, "the project");
        struct stat st {};
        if (::stat(mp.c_str(), &st) != 0 || st.st_uid != 1000 || st.st_gid != 1001)
            return "the clone's top is not shown as 1000:1001 (" + std::to_string(st.st_uid) + ")";
        if (::stat((mp + "/roots").c_str(), &st) != 0 || st.st_uid != 1000)
            return "a root-owned file is not shown as 1000";
        if (::stat((mp + "/others").c_str(), &st) != 0 || st.st_uid != 65534 || st.st_gid != 65534)
            return "another owner's file is not shown as the overflow id: " + std::to_string(st.st_uid);
        // Create as the agent would: fsuid/fsgid 1000:1001 (this child is single-threaded).
        ::setfsgid(1001);
        ::setfsuid(1000);
        const bool created = std::ofstream(mp + "/new") << "agent\n" ? true : false;
        const bool made_dir = ::mkdir((mp + "/sub/dir").c_str(), 0755) == 0;
        ::setfsuid(0);
        ::setfsgid(0);
        if (!created || !made_dir)
            return "the agent's ids cannot create in the clone";
        clone.detach();
        if (fs::exists(mp))
            return "the mount point is still there after detach";
        return "";
    });
    EXPECT_EQ(result, "");
    for (const char *rel : {"new", "sub/dir"}) {
        struct stat st {};
        ASSERT_EQ(::lstat((root_ / "project" / rel).c_str(), &st), 0) << rel;
        EXPECT_EQ(st.st_uid, 0u) << rel << " must land as root's on disk";
        EXPECT_EQ(st.st_gid, 0u) << rel;
    }
    struct stat other {};
    ASSERT_EQ(::lstat((root_ / "project" / "others").c_str(), &other), 0);
    EXPECT_EQ(other.st_uid, 1234u) << "no existing file changes owner";
}

TEST_F(IdmappedCloneTest, AnotherOwnersFileIsNotTheAgentsToWrite) {
    const std::string project = (root_ / "project").string();
    const std::string mp = (root_ / "clone").string();
    ::chmod((root_ / "project" / "others").c_str(), 0644);
    const std::string id = identity(project);
    const std::string result = in_private_mounts([&]() -> std::string {
        IdmappedClone clone(project, id, mp, 1000, 1000, "the project");
        // Without CAP_DAC_OVERRIDE, as the agent: the file of uid 1234 (shown as 65534) is read-only to it.
        ::setfsgid(1000);
        ::setfsuid(1000);
        const int fd = ::open((mp + "/others").c_str(), O_WRONLY);
        const int error = errno;
        ::setfsuid(0);
        if (fd >= 0) {
            ::close(fd);
            return "the agent could open another owner's file for writing";
        }
        return error == EACCES ? "" : "unexpected errno " + std::to_string(error);
    });
    EXPECT_EQ(result, "");
}

TEST_F(IdmappedCloneTest, ADirectorySwappedSinceItWasCheckedIsRefused) {
    const std::string project = (root_ / "project").string();
    const std::string mp = (root_ / "clone").string();
    const std::string sub_identity = identity(root_ / "project" / "sub");  // not the project's
    const std::string result = in_private_mounts([&]() -> std::string {
        try {
            IdmappedClone clone(project, sub_identity, mp, 1000, 1000, "the project");
            return "a clone of another directory than the checked one was made";
        } catch (const Error &e) {
            return std::string(e.what()).find("changed while rustyolo prepared it") != std::string::npos
                       ? ""
                       : std::string("wrong message: ") + e.what();
        }
    });
    EXPECT_EQ(result, "");
    EXPECT_FALSE(fs::exists(mp));
}

TEST_F(IdmappedCloneTest, AFilesystemThatCannotIdmapIsRefusedWithTheReasonAndTheAlternatives) {
    const std::string ramfs = (root_ / "ramfs").string();
    fs::create_directories(ramfs);
    const std::string mp = (root_ / "clone").string();
    const std::string result = in_private_mounts([&]() -> std::string {
        if (::mount("ramfs", ramfs.c_str(), "ramfs", 0, "mode=0700") != 0)
            return "cannot mount a ramfs";
        struct stat st {};
        ::stat(ramfs.c_str(), &st);
        const std::string id = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
        try {
            IdmappedClone clone(ramfs, id, mp, 1000, 1000, "the project");
            return "a ramfs was idmapped";
        } catch (const UsageError &e) {
            const std::string message = e.what();
            for (const char *part : {"ramfs", "idmapped mount", "chown -R", "run rustyolo as that user",
                                     "never runs the agent as root", ramfs.c_str()})
                if (message.find(part) == std::string::npos)
                    return "the refusal does not say \"" + std::string(part) + "\": " + message;
            return fs::exists(mp) ? "a mount point was left" : "";
        }
    });
    EXPECT_EQ(result, "");
}

TEST_F(IdmappedCloneTest, TheUserNamespaceMapsOnlyZeroToTheAgent) {
    UniqueFd ns = idmap_user_namespace(1000, 1001);
    ASSERT_TRUE(ns);
    struct stat st {};
    ASSERT_EQ(::fstat(ns.get(), &st), 0);
    struct stat mine {};
    ASSERT_EQ(::stat("/proc/self/ns/user", &mine), 0);
    EXPECT_NE(st.st_ino, mine.st_ino) << "a new user namespace, not ours";
}

}  // namespace
}  // namespace rustyolo

namespace rustyolo {
namespace {

TEST_F(IdmappedCloneTest, ClonesOfAKilledSessionAreDetachedAndALiveSessionsStay) {
    const std::string base = (root_ / "idmap").string();
    const std::string project = (root_ / "project").string();
    const std::string result = in_private_mounts([&]() -> std::string {
        fs::create_directories(base + "/dead/project");
        if (::mount(project.c_str(), (base + "/dead/project").c_str(), nullptr, MS_BIND, nullptr) != 0)
            return "cannot bind";
        std::ofstream(base + "/dead.lock").flush();  // its CLI is gone: nobody holds the lock
        fs::create_directories(base + "/live/project");
        if (::mount(project.c_str(), (base + "/live/project").c_str(), nullptr, MS_BIND, nullptr) != 0)
            return "cannot bind";
        UniqueFd live(::open((base + "/live.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
        if (!live || ::flock(live.get(), LOCK_EX) != 0)
            return "cannot lock";
        detach_abandoned_idmaps(base);
        if (fs::exists(base + "/dead"))
            return "the killed session's directory is still there";
        if (!fs::exists(base + "/live/project/roots"))
            return "the live session's clone was detached";
        if (!fs::exists(project + "/roots"))
            return "the project lost a file";
        return "";
    });
    EXPECT_EQ(result, "");
}

}  // namespace
}  // namespace rustyolo
