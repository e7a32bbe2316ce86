#include "core/host/paths.hpp"

#include "core/error.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace rustyolo {

namespace fs = std::filesystem;

std::string executable_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
        throw Error("cannot find the rustyolo executable (/proc/self/exe): " + ec.message());
    return exe.parent_path().string();
}

std::string builtin_plugin_dir() {
    return (fs::path(executable_dir()).parent_path() / "lib" / "rustyolo" / "plugins").string();
}

std::string home_dir(const GetEnv &getenv_fn) {
    if (const char *home = getenv_fn("HOME"); home && *home == '/')
        return home;
    if (const passwd *pw = ::getpwuid(::getuid()); pw && pw->pw_dir)
        return pw->pw_dir;
    throw Error("cannot find your home directory: HOME is not set and uid " +
                std::to_string(::getuid()) + " has no passwd entry; set HOME");
}

std::string user_plugin_dir(const GetEnv &getenv_fn) {
    if (const char *data = getenv_fn("XDG_DATA_HOME"); data && *data == '/')
        return std::string(data) + "/rustyolo/plugins";
    return home_dir(getenv_fn) + "/.local/share/rustyolo/plugins";
}

std::string expand_tilde(const std::string &path, const std::string &home) {
    if (path == "~")
        return home;
    if (path.rfind("~/", 0) == 0)
        return home + path.substr(1);
    return path;
}

std::string resolve_plugin_argument(const std::string &argument, const std::string &cwd,
                                    const std::vector<std::string> &trusted_dirs) {
    if (argument.empty())
        throw UsageError("--plugin \"\": empty; give a plugin file path (./myagent.so) or the name of "
                         "a plugin in the trusted plugin directories");
    if (argument.find('/') != std::string::npos)
        return fs::path(argument).is_absolute() ? argument
                                                : (fs::path(cwd) / argument).lexically_normal().string();
    std::string file = argument.size() > 3 && argument.ends_with(".so") ? argument : argument + ".so";
    std::string searched;
    for (const auto &dir : trusted_dirs) {
        std::string candidate = dir + "/" + file;
        if (fs::exists(candidate))
            return candidate;
        searched += (searched.empty() ? "" : ", ") + dir;
    }
    throw UsageError("--plugin " + argument + ": no plugin file " + file + " in the trusted plugin "
                     "directories (" + searched + "); to load a file from elsewhere give its path, "
                     "e.g. --plugin ./" + file);
}

void make_private_dir(const std::string &dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error("cannot create the runtime directory " + dir + ": " + std::strerror(errno));
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid() ||
        (st.st_mode & 077) != 0)
        throw Error("the runtime directory " + dir + " is not a private directory owned by you "
                    "(it must be mode 0700, not a symlink); remove it and run again");
}

std::string uid_base_dir() {
    std::string base = "/tmp/rustyolo-" + std::to_string(::getuid());
    make_private_dir(base);
    return base;
}

std::string runtime_base_dir(const GetEnv &getenv_fn) {
    std::string base;
    if (const char *runtime = getenv_fn("XDG_RUNTIME_DIR"); runtime && *runtime == '/' &&
                                                          ::access(runtime, W_OK) == 0)
        base = std::string(runtime) + "/rustyolo";
    else
        base = "/tmp/rustyolo-" + std::to_string(::getuid());
    make_private_dir(base);
    return base;
}

std::string session_dir_path(const GetEnv &getenv_fn, const std::string &session) {
    return runtime_base_dir(getenv_fn) + "/" + session;
}

std::string make_session_dir(const GetEnv &getenv_fn, const std::string &session, bool reuse) {
    std::string dir = session_dir_path(getenv_fn, session);
    if (::mkdir(dir.c_str(), 0700) != 0) {
        if (!(reuse && errno == EEXIST))
            throw Error("cannot create the session directory " + dir + ": " + std::strerror(errno));
        ::chmod(dir.c_str(), 0700);
        make_private_dir(dir);
    }
    return dir;
}

}  // namespace rustyolo
