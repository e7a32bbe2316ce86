// Reading the file sink's records back: lines, schema, offsets, session lookup, liveness.
#include "plugins/audit-file/session_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace rustyolo::audit_file {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char *kStart =
    R"({"schema":1,"time":"2026-01-02T03:04:05.000Z","session":"abc123","seq":1,"layer":"lifecycle","verdict":"info","event":"start","details":{"agent":"claude","level":"basic"}})";
const char *kBlock =
    R"({"schema":1,"time":"2026-01-02T03:04:06.000Z","session":"abc123","seq":2,"layer":"network","verdict":"block","event":"packet","details":{"protocol":"tcp","destination":"10.1.2.3","port":22,"name":null,"rule":"blocked_output"}})";
const char *kExit =
    R"({"schema":1,"time":"2026-01-02T03:04:08.000Z","session":"abc123","seq":4,"layer":"lifecycle","verdict":"info","event":"exit","details":{"exit_code":3,"signal":null,"reason":"agent exited"}})";

class AuditDir : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rustyolo-reader-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directory(dir_);
        fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string write(const std::string &name, const std::string &content) {
        std::ofstream(dir_ / name, std::ios::binary) << content;
        return (dir_ / name).string();
    }
    fs::path dir_;
};

TEST(LineParser, CompleteLinesOnlyAcrossChunks) {
    LineParser parser("f");
    const std::string line = std::string(kStart) + "\n";
    EXPECT_TRUE(parser.feed(line.substr(0, 10)).empty());
    EXPECT_TRUE(parser.has_partial_line());
    EXPECT_EQ(parser.feed(line.substr(10)).size(), 1u);
    EXPECT_FALSE(parser.has_partial_line());
}

TEST(LineParser, GarbageLinesAreCountedNotReturned) {
    LineParser parser("f");
    EXPECT_EQ(parser.feed(std::string("not json\n[1]\n") + kBlock + "\n").size(), 1u);
    EXPECT_EQ(parser.malformed_lines(), 2u);
}

TEST(LineParser, UnknownSchemaIsRefusedNamingFileAndLine) {
    LineParser parser("/a/x.jsonl");
    try {
        parser.feed(std::string(kStart) + "\n{\"schema\":2,\"layer\":\"network\"}\n");
        FAIL();
    } catch (const std::runtime_error &e) {
        EXPECT_THAT(e.what(), HasSubstr("/a/x.jsonl:2: audit record schema 2; this rustyolo reads schema 1"));
    }
}

TEST(LineParser, MissingSchemaIsRefused) {
    LineParser parser("f");
    EXPECT_THROW(parser.feed("{\"layer\":\"network\"}\n"), std::runtime_error);
}

TEST_F(AuditDir, ListsJsonlFilesOldestFirst) {
    write("2026-01-02T00-00-00.000Z-bbb.jsonl", "");
    write("2026-01-01T00-00-00.000Z-aaa.jsonl", "");
    write("notes.txt", "");
    const auto files = list_session_files(dir_.string());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].name, "2026-01-01T00-00-00.000Z-aaa.jsonl");
}

TEST_F(AuditDir, MissingDirectoryListsNothing) { EXPECT_TRUE(list_session_files((dir_ / "none").string()).empty()); }

TEST_F(AuditDir, GroupWritableDirectoryIsRefused) {
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_write, fs::perm_options::replace);
    EXPECT_THROW(list_session_files(dir_.string()), std::runtime_error);
}

TEST_F(AuditDir, SymlinkedDirectoryIsRefused) {
    fs::create_directory_symlink(dir_, dir_.string() + "-link");
    EXPECT_THROW(list_session_files(dir_.string() + "-link"), std::runtime_error);
    fs::remove(dir_.string() + "-link");
}

TEST_F(AuditDir, TruncatedLastLineIsTolerated) {
    const std::string name = "2026-01-02T03-04-05.000Z-abc123.jsonl";
    const std::string path = write(name, std::string(kStart) + "\n" + std::string(kBlock).substr(0, 30));
    const auto session = read_session({path, name});
    EXPECT_EQ(session.records.size(), 1u);
    EXPECT_TRUE(session.truncated);
    EXPECT_EQ(session.offset, std::string(kStart).size() + 1);
}

TEST_F(AuditDir, ReadingFromAnOffsetGivesOnlyWhatCameAfter) {
    const std::string name = "2026-01-02T03-04-05.000Z-abc123.jsonl";
    const std::string path = write(name, std::string(kStart) + "\n" + std::string(kBlock).substr(0, 30));
    const auto first = read_session({path, name});
    ASSERT_EQ(first.records.size(), 1u);
    std::ofstream(path, std::ios::binary | std::ios::app) << std::string(kBlock).substr(30) << "\n" << kExit << "\n";
    const auto second = read_session({path, name}, first.offset);
    ASSERT_EQ(second.records.size(), 2u);
    EXPECT_EQ(second.records[0].at("event"), "packet");
    EXPECT_EQ(second.records[1].at("event"), "exit");
    EXPECT_FALSE(second.truncated);
    EXPECT_EQ(second.offset, fs::file_size(path));
    EXPECT_TRUE(read_session({path, name}, second.offset).records.empty());
}

TEST_F(AuditDir, SessionsAreFoundByIdPrefixOrLatest) {
    write("2026-01-01T00-00-00.000Z-abc111.jsonl", std::string(kStart) + "\n");
    write("2026-01-02T00-00-00.000Z-abd222.jsonl", std::string(kStart) + "\n");
    EXPECT_EQ(find_session(dir_.string(), "latest").id(), "abd222");
    EXPECT_EQ(find_session(dir_.string(), "abc111").id(), "abc111");
    EXPECT_EQ(find_session(dir_.string(), "abd").id(), "abd222");
    EXPECT_THROW(find_session(dir_.string(), "ab"), std::invalid_argument);
    EXPECT_THROW(find_session(dir_.string(), "zzz"), std::invalid_argument);
    EXPECT_EQ(find_session(dir_.string(), "abc111").started(), "2026-01-01T00-00-00.000Z");
}

TEST_F(AuditDir, ListAndReadAnswersHaveTheHooksShape) {
    const std::string path = write("2026-01-01T00-00-00.000Z-abc111.jsonl", std::string(kStart) + "\n" + kExit + "\n");
    const auto list = list_answer(dir_.string());
    EXPECT_EQ(std::string(list.at("location").as_string()), dir_.string());
    ASSERT_EQ(list.at("sessions").as_array().size(), 1u);
    const auto &entry = list.at("sessions").as_array()[0].as_object();
    EXPECT_EQ(entry.at("session"), "abc111");
    EXPECT_EQ(std::string(entry.at("location").as_string()), path);
    EXPECT_EQ(entry.at("live"), false);
    const auto read = read_answer(dir_.string(), "abc", 0);
    EXPECT_EQ(read.at("session"), "abc111");
    EXPECT_EQ(read.at("records").as_array().size(), 2u);
    EXPECT_EQ(read.at("offset").to_number<std::uint64_t>(), fs::file_size(path));
    EXPECT_EQ(read.at("truncated"), false);
    EXPECT_EQ(read.at("malformed_lines").to_number<std::uint64_t>(), 0u);
}

TEST_F(AuditDir, LockedFileIsLiveAndUnlockedIsNot) {
    const std::string path = write("2026-01-02T03-04-05.000Z-abc123.jsonl", std::string(kStart) + "\n");
    EXPECT_FALSE(is_live(path));
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    EXPECT_TRUE(is_live(path));
    ::close(fd);
    EXPECT_FALSE(is_live(path));
}

TEST_F(AuditDir, SymlinkedSessionFileIsNotRead) {
    const std::string target = write("real", std::string(kStart) + "\n");
    fs::create_symlink(target, dir_ / "2026-x-abc.jsonl");
    EXPECT_THROW(read_session({(dir_ / "2026-x-abc.jsonl").string(), "2026-x-abc.jsonl"}), std::runtime_error);
}

}  // namespace
}  // namespace rustyolo::audit_file
