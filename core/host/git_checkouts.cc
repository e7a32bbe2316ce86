#include "core/host/git_checkouts.hpp"

#include <rustyolo/sdk/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace rustyolo {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxRead = 64 * 1024;  // a config, .gitmodules or gitdir file larger is not read

std::optional<std::string> read_small(const fs::path &path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > kMaxRead)
        return std::nullopt;
    std::string out(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

std::string lower(std::string s) {
    for (auto &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string &s) {
    std::size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
        ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
        --b;
    return s.substr(a, b - a);
}

// A value as git reads it, for the plain cases only: surrounding quotes removed, a trailing comment
// cut. A value with a backslash or an inner quote is not interpreted (nullopt).
std::optional<std::string> plain_value(std::string v) {
    v = trim(v);
    if (v.find('\\') != std::string::npos)
        return std::nullopt;
    if (!v.empty() && v.front() == '"') {
        const std::size_t close = v.find('"', 1);
        if (close == std::string::npos)
            return std::nullopt;
        const std::string rest = trim(v.substr(close + 1));
        if (!rest.empty() && rest[0] != '#' && rest[0] != ';')
            return std::nullopt;
        return v.substr(1, close - 1);
    }
    if (v.find('"') != std::string::npos)
        return std::nullopt;
    const std::size_t comment = v.find_first_of("#;");
    return trim(v.substr(0, comment));
}

// `path` (absolute) resolved on the host, then relative to the project when inside it.
std::optional<fs::path> inside(const fs::path &project, const fs::path &path) {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(path, ec);
    if (ec)
        return std::nullopt;
    const fs::path top = fs::weakly_canonical(project, ec);
    if (ec)
        return std::nullopt;
    const fs::path rel = real.lexically_relative(top);
    if (rel.empty() || rel == "." || *rel.begin() == "..")
        return std::nullopt;
    return rel;
}

// Whether project/rel is a regular file with only directories on the way (no symbolic link).
bool plain_file_inside(const fs::path &project, const fs::path &rel) {
    fs::path walked = project;
    std::size_t left = static_cast<std::size_t>(std::distance(rel.begin(), rel.end()));
    for (const auto &part : rel) {
        walked /= part;
        struct stat st {};
        if (::lstat(walked.c_str(), &st) != 0)
            return false;
        if (--left == 0)
            return S_ISREG(st.st_mode);
        if (!S_ISDIR(st.st_mode))
            return false;
    }
    return false;
}

}  // namespace

std::vector<std::string> git_config_values(const std::string &text, const std::string &section,
                                           const std::string &key, bool in_subsections) {
    std::vector<std::string> out;
    bool in_section = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string line = trim(text.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            const std::size_t close = line.find(']');
            if (close == std::string::npos) {
                in_section = false;
                continue;
            }
            const std::string header = trim(line.substr(1, close - 1));
            const std::size_t space = header.find_first_of(" \t");
            const std::string name = lower(header.substr(0, space));
            const bool sub = space != std::string::npos;
            in_section = name == section && sub == in_subsections;
            line = trim(line.substr(close + 1));  // `[core] worktree = x` on one line
            if (line.empty())
                continue;
        }
        if (!in_section)
            continue;
        const std::size_t eq = line.find('=');
        if (eq == std::string::npos || lower(trim(line.substr(0, eq))) != key)
            continue;
        if (auto v = plain_value(line.substr(eq + 1)); v && !v->empty())
            out.push_back(*v);
        else
            out.push_back("");  // present but not interpreted: it still replaces an earlier value
    }
    if (!in_subsections && out.size() > 1)
        out.erase(out.begin(), out.end() - 1);
    out.erase(std::remove(out.begin(), out.end(), ""), out.end());
    return out;
}

std::vector<std::string> checkout_gitfiles(const fs::path &project, const std::vector<GitDir> &dirs) {
    std::set<std::string> found;
    auto consider = [&](const fs::path &gitfile) {
        if (auto rel = inside(project, gitfile); rel && plain_file_inside(project, *rel))
            found.insert(rel->string());
    };
    for (const auto &dir : dirs) {
        const fs::path git_dir = project / dir.relative;
        if (dir.linked) {
            // worktree.c: `gitdir` holds the absolute path of the worktree's `.git` file.
            if (auto text = read_small(git_dir / "gitdir")) {
                const std::string path = trim(*text);
                if (!path.empty())
                    consider(fs::path(path).is_absolute() ? fs::path(path) : git_dir / path);
            }
            continue;
        }
        if (dir.relative == ".git")
            continue;  // the main git dir's work tree is the project itself
        if (auto text = read_small(git_dir / "config"))
            for (const auto &worktree : git_config_values(*text, "core", "worktree", false))
                consider((fs::path(worktree).is_absolute() ? fs::path(worktree) : git_dir / worktree) / ".git");
    }
    if (auto text = read_small(project / ".gitmodules"))
        for (const auto &path : git_config_values(*text, "submodule", "path", true))
            if (!fs::path(path).is_absolute())
                consider(project / path / ".git");
    return {found.begin(), found.end()};
}

}  // namespace rustyolo
