#include "core/host/session_socket.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace rustyolo {
namespace {

namespace fs = std::filesystem;

int connect_to(const std::string &path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct Lines {
    std::mutex mutex;
    std::vector<std::pair<std::string, bool>> got;
};

TEST(SessionSocket, AcceptsOneConnectionAndSplitsItsLines) {
    const fs::path dir = fs::temp_directory_path() / ("rustyolo-socket-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directory(dir);
    const std::string path = (dir / "s.sock").string();
    Lines lines;
    bool closed = false;
    {
        SessionSocket socket(
            path,
            [&](std::string_view line, bool overlong) {
                std::lock_guard lock(lines.mutex);
                lines.got.emplace_back(std::string(line), overlong);
            },
            [&] { closed = true; }, 8);
        const int first = connect_to(path);
        ASSERT_GE(first, 0);
        for (int i = 0; i < 200 && !socket.connected(); ++i)
            ::usleep(10000);
        ASSERT_TRUE(socket.connected());
        EXPECT_FALSE(fs::exists(path)) << "the name is removed once the one connection is taken";
        EXPECT_LT(connect_to(path), 0) << "a second connection must fail";
        const std::string data = "one\ntw";
        ASSERT_EQ(::write(first, data.data(), data.size()), static_cast<ssize_t>(data.size()));
        ::usleep(20000);
        const std::string more = "o\nmuch-too-long-line\nthree\nunterminated";
        ASSERT_EQ(::write(first, more.data(), more.size()), static_cast<ssize_t>(more.size()));
        ::close(first);
        EXPECT_TRUE(socket.wait_closed(2000));
    }
    EXPECT_TRUE(closed);
    const std::vector<std::pair<std::string, bool>> want{
        {"one", false}, {"two", false}, {"much-too", true}, {"three", false}, {"untermin", true}};
    EXPECT_EQ(lines.got, want);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace rustyolo

namespace rustyolo {
namespace {

std::vector<std::pair<std::string, bool>> read_lines(const std::vector<std::string> &reads, std::size_t max_line,
                                                     bool closed = true) {
    std::vector<std::pair<std::string, bool>> got;
    WireLineReader reader([&got](std::string_view line, bool overlong) { got.emplace_back(line, overlong); },
                          max_line);
    for (const std::string &bytes : reads)
        reader.take(bytes.data(), bytes.size());
    if (closed)
        reader.end();
    return got;
}

using Got = std::vector<std::pair<std::string, bool>>;

TEST(WireLineReader, SplitsLinesAcrossReads) {
    EXPECT_EQ(read_lines({"ab", "c\nde", "f\n\n"}, 16), (Got{{"abc", false}, {"def", false}, {"", false}}));
}

TEST(WireLineReader, CutsAnOverlongLineOnceAndDiscardsItsRest) {
    EXPECT_EQ(read_lines({"abcdefgh", "ij\nok\n"}, 4), (Got{{"abcd", true}, {"ok", false}}));
    EXPECT_EQ(read_lines({"abcd\n"}, 4), (Got{{"abcd", false}}));
}

TEST(WireLineReader, AnUnterminatedLastLineIsIncomplete) {
    EXPECT_EQ(read_lines({"one\ntw", "o"}, 16), (Got{{"one", false}, {"two", true}}));
    EXPECT_EQ(read_lines({"one\ntwo"}, 16, false), (Got{{"one", false}}));
    EXPECT_EQ(read_lines({"abcdefgh"}, 4), (Got{{"abcd", true}}));  // cut, then nothing more at the end
}

}  // namespace
}  // namespace rustyolo
