// A volume as the user gives it (--volume, [default] volumes), the way the plan builder handles it
// (core/plan/plan_builder.cc): parse_mount_spec canonicalises the host path against the real file
// system, then the mount guard judges the result (plugins/mount-guard, judge_mount).
//
// The working directory and home are a scratch tree with the shapes the canonicalisation must get
// right: a symlink loop, a dangling link, links out of the tree, to /proc and to ~/.ssh, a socket.
#include "core/config/mount_spec.hpp"
#include "core/error.hpp"
#include "plugins/mount-guard/mount_rules.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using namespace rustyolo;

struct Tree {
    std::string root, home, cwd;
    int socket_fd = -1;
    Tree() {
        char dir[] = "/tmp/rustyolo-fuzz-mount-XXXXXX";
        if (!::mkdtemp(dir))
            std::abort();
        root = dir;
        home = root + "/home/user";
        cwd = home + "/project";
        fs::create_directories(cwd + "/src");
        fs::create_directories(home + "/.ssh");
        std::ofstream(home + "/.ssh/id_ed25519") << "key\n";
        std::ofstream(cwd + "/file") << "data\n";
        fs::create_symlink("loop", cwd + "/loop");
        fs::create_symlink("missing/deeper", cwd + "/dangling");
        fs::create_symlink("/proc/self", cwd + "/proc");
        fs::create_symlink("../.ssh", cwd + "/keys");
        fs::create_symlink("..", cwd + "/up");
        fs::create_symlink("/", cwd + "/rootlink");
        socket_fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const std::string socket_path = cwd + "/engine.sock";
        if (socket_fd >= 0 && socket_path.size() < sizeof address.sun_path) {
            std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
            if (::bind(socket_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
                std::abort();
        }
    }
    ~Tree() {
        if (socket_fd >= 0)
            ::close(socket_fd);
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

Tree &tree() {
    static Tree t;
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    tree();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size > 4096)
        return 0;  // paths longer than PATH_MAX are refused before any file system call
    const Tree &t = tree();
    MountSpec spec;
    try {
        spec = parse_mount_spec(fuzz::text(data, size), t.home, t.cwd);
    } catch (const UsageError &) {
        return 0;
    }
    // What the runtime gets: an absolute, canonical source and a normal absolute target.
    fuzz::check(!spec.source.empty() && spec.source.front() == '/', "source not absolute", spec.source);
    fuzz::check(spec.source.find("//") == std::string::npos && spec.source.find("/./") == std::string::npos &&
                    spec.source.find("/../") == std::string::npos,
                "source not canonical", spec.source);
    fuzz::check(!spec.target.empty() && spec.target.front() == '/' && spec.target != "/", "bad target", spec.target);
    fuzz::check(spec.source.find('\0') == std::string::npos, "NUL in source", spec.source);
    try {
        fuzz::check(canonicalize_path(spec.source) == spec.source, "canonical source is not a fixed point",
                    spec.source);
    } catch (const UsageError &) {
        // the file system may refuse to look at it (permissions)
    }
    mount_guard::MountRequest request;
    request.source = spec.source;
    request.requested = spec.requested;
    request.target = spec.target;
    request.readonly = spec.readonly;
    request.file_type = spec.file_type;
    request.home = t.home;
    request.bound_sockets = {t.cwd + "/engine.sock"};  // bound by the tree: a live socket
    request.origin = "volume";
    const mount_guard::MountVerdict verdict = mount_guard::judge_mount(request);
    fuzz::check(!verdict.rule.empty(), "verdict without a rule", spec.source);
    if (!verdict.allowed)
        fuzz::check(!verdict.reason.empty(), "refusal without a reason", spec.source);
    // Whatever the spelling, the user's SSH keys and the engine's socket are never mounted.
    const std::string ssh = t.home + "/.ssh";
    if (spec.source == ssh || spec.source.rfind(ssh + "/", 0) == 0 || spec.source == t.cwd + "/engine.sock")
        fuzz::check(!verdict.allowed, "a secret or a socket was allowed", spec.source);
    return 0;
}
