#include <rustyolo/sdk/read_all.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace rustyolo {
namespace {

// A pipe holding `text`, its write end closed: reading it ends at the end of `text`.
int pipe_with(const std::string &text) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    EXPECT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    return fds[0];
}

TEST(ReadAll, ReadsToTheEndWithinTheBound) {
    const std::string text(3 * 65536 / 4, 'x');  // fits a pipe's buffer
    const int fd = pipe_with(text);
    ReadAll read = read_all(fd, text.size());
    ::close(fd);
    ASSERT_TRUE(read.content.has_value());
    EXPECT_EQ(*read.content, text);
    EXPECT_EQ(read.error, 0);
}

TEST(ReadAll, MoreThanTheBoundIsNoContentNotATruncatedOne) {
    const int fd = pipe_with("0123456789");
    ReadAll read = read_all(fd, 9);
    ::close(fd);
    EXPECT_FALSE(read.content.has_value());
    EXPECT_EQ(read.error, 0);
}

TEST(ReadAll, AReadErrorIsReportedWithItsErrno) {
    const int fd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // read() of a directory: EISDIR
    ASSERT_GE(fd, 0);
    ReadAll read = read_all(fd, 100);
    ::close(fd);
    EXPECT_FALSE(read.content.has_value());
    EXPECT_EQ(read.error, EISDIR);
}

}  // namespace
}  // namespace rustyolo
