// Reading the file sink's records back: lines, schema, counts, liveness, and safe display.
#include "core/audit/log_reader.hpp"

#include "core/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rustyolo::audit_reader {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char *kStart =
    R"({"schema":1,"time":"2026-01-02T03:04:05.000Z","session":"abc123","seq":1,"layer":"lifecycle","verdict":"info","event":"start","details":{"agent":"claude","level":"basic"}})";
const char *kBlock =
    R"({"schema":1,"time":"2026-01-02T03:04:06.000Z","session":"abc123","seq":2,"layer":"network","verdict":"block","event":"packet","details":{"protocol":"tcp","destination":"10.1.2.3","port":22,"name":null,"rule":"blocked_output"}})";
const char *kSuppressed =
    R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":3,"layer":"lifecycle","verdict":"info","event":"suppressed","details":{"counts":{"10.1.2.3:22/tcp":40,"lifecycle x":2}}})";
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
    } catch (const Error &e) {
        EXPECT_THAT(e.what(), HasSubstr("/a/x.jsonl:2: audit record schema 2; this rustyolo reads schema 1"));
    }
}

TEST(LineParser, MissingSchemaIsRefused) {
    LineParser parser("f");
    EXPECT_THROW(parser.feed("{\"layer\":\"network\"}\n"), Error);
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
    EXPECT_THROW(list_session_files(dir_.string()), Error);
}

TEST_F(AuditDir, SymlinkedDirectoryIsRefused) {
    fs::create_directory_symlink(dir_, dir_.string() + "-link");
    EXPECT_THROW(list_session_files(dir_.string() + "-link"), Error);
    fs::remove(dir_.string() + "-link");
}

TEST_F(AuditDir, SessionInfoHasAgentExitAndExactBlockedCount) {
    const std::string path = write("2026-01-02T03-04-05.000Z-abc123.jsonl",
                                   std::string(kStart) + "\n" + kBlock + "\n" + kSuppressed + "\n" + kExit + "\n");
    const auto session = read_session({path, "2026-01-02T03-04-05.000Z-abc123.jsonl"});
    EXPECT_EQ(session.info.session, "abc123");
    EXPECT_EQ(session.info.agent, "claude");
    EXPECT_EQ(session.info.started, "2026-01-02T03:04:05.000Z");
    EXPECT_EQ(session.info.exit_code, 3);
    EXPECT_EQ(session.info.blocked, 41u);  // 1 record + 40 suppressed; lifecycle keys are not blocks
    EXPECT_EQ(session.records.size(), 4u);
    EXPECT_FALSE(session.info.truncated);
    EXPECT_FALSE(session.info.live);
}

// The form the supervisor sends (verdict -> key -> n, with "lost"), a network "lost" record, a
// refused line's blocked events, and a capped file's "dropped" record with the host's exact total.
TEST_F(AuditDir, BlockedCountReadsTheSchemasSuppressedFormLostAndTheCappedTotal) {
    const std::string nested =
        R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":3,"layer":"lifecycle","verdict":"info","event":"suppressed","details":{"total":{"block":52,"info":2},"lost":{"block":2},"counts":{"block":{"10.1.2.3:22/tcp":40,"10.1.2.3:*/udp":10},"info":{"lifecycle x":2}}}})";
    const std::string lost =
        R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":4,"layer":"network","verdict":"block","event":"lost","details":{"count":7}})";
    const std::string transport =
        R"({"schema":1,"time":"2026-01-02T03:04:07.000Z","session":"abc123","seq":5,"layer":"lifecycle","verdict":"info","event":"transport","details":{"count":1,"events":{"block":100},"unknown":0}})";
    const std::string path = write("2026-01-02T03-04-05.000Z-abc123.jsonl", std::string(kStart) + "\n" + kBlock + "\n" +
                                                                               nested + "\n" + lost + "\n" + transport +
                                                                               "\n" + kExit + "\n");
    EXPECT_EQ(read_session({path, "x"}).info.blocked, 1u + 52 + 7 + 100);
    const std::string dropped =
        R"({"schema":1,"time":"2026-01-02T03:04:08.000Z","session":"abc123","seq":9,"layer":"lifecycle","verdict":"info","event":"dropped","details":{"records":3,"blocked":5000}})";
    const std::string capped = write("2026-01-02T03-04-06.000Z-abc124.jsonl",
                                     std::string(kStart) + "\n" + kBlock + "\n" + kExit + "\n" + dropped + "\n");
    EXPECT_EQ(read_session({capped, "y"}).info.blocked, 5000u);
}

TEST_F(AuditDir, TruncatedLastLineIsTolerated) {
    const std::string name = "2026-01-02T03-04-05.000Z-abc123.jsonl";
    const std::string path = write(name, std::string(kStart) + "\n" + std::string(kBlock).substr(0, 30));
    const auto session = read_session({path, name});
    EXPECT_EQ(session.records.size(), 1u);
    EXPECT_TRUE(session.info.truncated);
    EXPECT_FALSE(session.info.exit_code.has_value());
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
    EXPECT_THROW(read_session({(dir_ / "2026-x-abc.jsonl").string(), "2026-x-abc.jsonl"}), Error);
}

TEST(FormatRecord, ShowsTimeVerdictLayerKeyAndDetails) {
    const auto record = boost::json::parse(kBlock).as_object();
    EXPECT_EQ(format_record(record), "2026-01-02T03:04:06.000Z  block  network/packet  10.1.2.3:22/tcp  "
                                     "protocol=tcp  destination=10.1.2.3  port=22  rule=blocked_output");
}

TEST(FormatRecord, ControlCharactersFromTheContainerAreEscaped) {
    auto record = boost::json::parse(kBlock).as_object();
    record["details"].as_object()["name"] = "evil\x1b]0;pwned\x07.test";
    record["event"] = "pa\x1b[2Jcket";
    const std::string line = format_record(record);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    EXPECT_EQ(line.find('\x07'), std::string::npos);
    EXPECT_THAT(line, HasSubstr("evil\\x1b]0;pwned\\x07.test"));
}

}  // namespace
}  // namespace rustyolo::audit_reader
