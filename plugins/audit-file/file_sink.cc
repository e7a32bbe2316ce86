#include "plugins/audit-file/file_sink.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rustyolo::audit_file {

namespace {

std::string errno_text(int error) { return std::strerror(error); }

bool session_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool time_char(char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == '.' || c == 'Z' || c == '+';
}

// Checks an opened directory: not a symlink (O_NOFOLLOW saw to that), a directory, ours, private.
void check_directory(int fd, const std::string &directory) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw std::runtime_error("cannot examine the audit directory " + directory + ": " + errno_text(errno));
    if (!S_ISDIR(st.st_mode))
        throw std::runtime_error("the audit directory " + directory + " is not a directory; remove it or set "
                                 "another directory with [security] audit_dir");
    if (st.st_uid != ::geteuid())
        throw std::runtime_error("the audit directory " + directory + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", not by you (uid " + std::to_string(::geteuid()) +
                                 "); records there could be read or replaced by its owner. Use a directory of "
                                 "your own ([security] audit_dir)");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        throw std::runtime_error("the audit directory " + directory +
                                 " is writable by group or others, so others could remove or plant records; "
                                 "run `chmod go-w " + directory + "` (0700 is best)");
}

}  // namespace

std::string session_file_name(std::string_view started, std::string_view session) {
    if (started.size() < 10 || started.size() > 40 || !(started[0] >= '0' && started[0] <= '9'))
        throw std::invalid_argument("the session start time \"" + std::string(started.substr(0, 40)) +
                                    "\" is not an RFC 3339 time");
    std::string name;
    for (char c : started) {
        if (!time_char(c))
            throw std::invalid_argument("the session start time \"" + std::string(started) +
                                        "\" is not an RFC 3339 time");
        name += c == ':' ? '-' : c;
    }
    if (session.empty() || session.size() > 64)
        throw std::invalid_argument("the session id must be 1 to 64 characters long");
    for (char c : session)
        if (!session_char(c))
            throw std::invalid_argument("the session id may hold only letters, digits, '-' and '_'");
    return name + "-" + std::string(session) + ".jsonl";
}

UniqueFd open_private_directory(const std::string &directory) {
    if (directory.empty() || directory.front() != '/')
        throw std::runtime_error("the audit directory \"" + directory + "\" is not an absolute path");
    // mkdir -p: each missing component with mode 0700. Existing components are left as they are.
    for (std::size_t pos = directory.find('/', 1);; pos = directory.find('/', pos + 1)) {
        const std::string prefix = directory.substr(0, pos);
        if (!prefix.empty() && prefix != "/" && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
            throw std::runtime_error("cannot create the audit directory " + prefix + ": " + errno_text(errno) +
                                     "; create it (mode 0700) or set another with [security] audit_dir");
        if (pos == std::string::npos)
            break;
    }
    UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        const int error = errno;
        if (error == ELOOP || error == ENOTDIR) {
            struct stat st {};
            if (::lstat(directory.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
                throw std::runtime_error("the audit directory " + directory +
                                         " is a symlink; rustyolo does not follow it (records could be sent "
                                         "elsewhere). Give the real directory with [security] audit_dir");
        }
        throw std::runtime_error("cannot open the audit directory " + directory + ": " + errno_text(error));
    }
    check_directory(fd.get(), directory);
    return fd;
}

FileSink::~FileSink() {
    try {
        close();
    } catch (...) {
    }
}

std::string FileSink::open(const std::string &directory, std::string_view started, std::string_view session) {
    if (fd_)
        throw std::runtime_error("the audit file sink already has a session open (" + path_ + ")");
    const std::string name = session_file_name(started, session);
    UniqueFd dir = open_private_directory(directory);
    const std::string path = directory + (directory.back() == '/' ? "" : "/") + name;
    UniqueFd fd(::openat(dir.get(), name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0600));
    if (!fd) {
        const int error = errno;
        if (error == EEXIST)
            throw std::runtime_error("the audit file " + path + " already exists; rustyolo never overwrites "
                                     "records (is another session with this id running?)");
        throw std::runtime_error("cannot create the audit file " + path + ": " + errno_text(error));
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
        throw std::runtime_error("cannot lock the audit file " + path + ": " + errno_text(errno));
    fd_ = std::move(fd);
    path_ = path;
    return path_;
}

void FileSink::write_line(std::string_view line) {
    if (!fd_)
        throw std::runtime_error("the audit file sink has no open session");
    std::string data(line);
    data += '\n';
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t written = ::write(fd_.get(), data.data() + done, data.size() - done);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error("cannot write to the audit file " + path_ + ": " + errno_text(errno));
        }
        done += static_cast<std::size_t>(written);
    }
}

void FileSink::close() {
    if (!fd_)
        return;
    const bool synced = ::fsync(fd_.get()) == 0;
    const int error = errno;
    fd_.reset();  // closing the file releases the lock
    if (!synced)
        throw std::runtime_error("cannot flush the audit file " + path_ + ": " + errno_text(error));
}

}  // namespace rustyolo::audit_file
