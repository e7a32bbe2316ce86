#include "core/cli/live_save.hpp"

#include "core/config/config_env.hpp"
#include "core/config/config_toml.hpp"
#include "core/config/project_file.hpp"
#include "core/config/trust.hpp"
#include "core/error.hpp"

#include <toml++/toml.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace rustyolo::cli {

namespace fs = std::filesystem;

namespace {

toml::table parse_toml(std::string_view text, const std::string &origin) {
    try {
        return toml::parse(text, origin);
    } catch (const toml::parse_error &e) {
        std::ostringstream where;
        where << e.source().begin;
        throw UsageError(origin + ": " + std::string(e.description()) + " (" + where.str() +
                         "); fix the file, then run the command again");
    }
}

std::vector<std::string> current_domains(const toml::table &table) {
    std::vector<std::string> out;
    const toml::node *node = table.at_path("default.allow_domains").node();
    if (!node)
        return out;
    if (const auto *array = node->as_array()) {
        for (const auto &item : *array)
            if (const auto *s = item.as_string())
                out.push_back(s->get());
    } else if (const auto *s = node->as_string()) {
        std::istringstream words(s->get());
        for (std::string word; words >> word;)
            out.push_back(word);
    }
    return out;
}

std::string quoted(const std::string &value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string domains_line(const std::vector<std::string> &domains) {
    std::string line = "allow_domains = [";
    for (std::size_t i = 0; i < domains.size(); ++i)
        line += (i ? ", " : "") + quoted(domains[i]);
    return line + "]";
}

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        lines.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::string trimmed(const std::string &line) {
    const auto first = line.find_first_not_of(" \t");
    return first == std::string::npos ? "" : line.substr(first);
}

bool is_table_header(const std::string &line) { return !trimmed(line).empty() && trimmed(line)[0] == '['; }

void write_atomically(const std::string &path, const std::string &content, mode_t mode) {
    const fs::path target(path);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    std::string temporary = path + ".rustyolo-tmp-XXXXXX";
    int fd = ::mkstemp(temporary.data());
    if (fd < 0)
        throw Error("cannot write " + path + ": " + std::strerror(errno));
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t done = 0;
    while (ok && done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    ok = ok && ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = ok ? errno : err;
        ::unlink(temporary.c_str());
        throw Error("cannot write " + path + ": " + std::strerror(error));
    }
}

std::string read_text(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return "";
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// The lines that differ, as "- old" / "+ new" (the edit changes one place of the file).
std::string line_diff(const std::string &before, const std::string &after) {
    std::vector<std::string> a = lines_of(before), b = lines_of(after);
    std::size_t head = 0;
    while (head < a.size() && head < b.size() && a[head] == b[head])
        ++head;
    std::size_t tail = 0;
    while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
        ++tail;
    std::string out;
    for (std::size_t i = head; i < a.size() - tail; ++i)
        out += "- " + a[i] + "\n";
    for (std::size_t i = head; i < b.size() - tail; ++i)
        out += "+ " + b[i] + "\n";
    return out;
}

}  // namespace

std::optional<std::string> with_allow_domains(std::string_view text, const std::vector<std::string> &entries,
                                              const std::string &origin) {
    toml::table before = parse_toml(text, origin);
    std::vector<std::string> domains = current_domains(before);
    const std::size_t had = domains.size();
    for (const std::string &entry : entries)
        if (std::find(domains.begin(), domains.end(), entry) == domains.end())
            domains.push_back(entry);
    if (domains.size() == had)
        return std::nullopt;

    std::vector<std::string> lines = lines_of(text);
    // The [default] table, and in it the allow_domains key (its value may span lines: an array).
    std::size_t header = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (trimmed(lines[i]).rfind("[default]", 0) == 0) {
            header = i;
            break;
        }
    if (header == lines.size()) {
        if (!lines.empty() && !trimmed(lines.back()).empty())
            lines.emplace_back();
        lines.emplace_back("[default]");
        lines.push_back(domains_line(domains));
    } else {
        std::size_t key = lines.size();
        for (std::size_t i = header + 1; i < lines.size() && !is_table_header(lines[i]); ++i) {
            const std::string t = trimmed(lines[i]);
            if (t.rfind("allow_domains", 0) == 0 && t.find('=') != std::string::npos &&
                trimmed(t.substr(13)).rfind("=", 0) == 0) {
                key = i;
                break;
            }
        }
        if (key == lines.size()) {
            lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(header) + 1, domains_line(domains));
        } else {
            // The value ends on the first line from `key` on after which the text parses again.
            std::size_t last = key;
            const std::string value_start = trimmed(lines[key].substr(lines[key].find('=') + 1));
            if (!value_start.empty() && value_start[0] == '[') {
                int depth = 0;
                bool in_string = false;
                for (last = key; last < lines.size(); ++last) {
                    const std::string &line = lines[last];
                    for (std::size_t c = last == key ? line.find('=') + 1 : 0; c < line.size(); ++c) {
                        if (in_string) {
                            if (line[c] == '\\')
                                ++c;
                            else if (line[c] == '"')
                                in_string = false;
                        } else if (line[c] == '"') {
                            in_string = true;
                        } else if (line[c] == '#') {
                            break;
                        } else if (line[c] == '[') {
                            ++depth;
                        } else if (line[c] == ']') {
                            --depth;
                        }
                    }
                    if (depth == 0)
                        break;
                }
            }
            if (last >= lines.size())
                throw UsageError(origin + ": cannot find the end of allow_domains; add " + domains_line(domains) +
                                 " under [default] by hand");
            lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(key), lines.begin() + static_cast<std::ptrdiff_t>(last) + 1);
            lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(key), domains_line(domains));
        }
    }
    std::string out;
    for (const std::string &line : lines)
        out += line + "\n";

    // The edit changed exactly [default] allow_domains, to `domains`: checked on the parsed result.
    toml::table after = parse_toml(out, origin + " (edited)");
    bool same_rest = current_domains(after) == domains;
    auto strip = [](toml::table table) {
        if (toml::table *defaults = table["default"].as_table()) {
            defaults->erase("allow_domains");
            if (defaults->empty())
                table.erase("default");
        }
        return table;
    };
    same_rest = same_rest && strip(before) == strip(after);
    if (!same_rest)
        throw UsageError(origin + ": cannot add the entries to allow_domains safely (it is written in a form this "
                         "edit does not handle); add " + domains_line(domains) + " under [default] by hand");
    return out;
}

void save_to_user_config(Context &context, const std::vector<std::string> &entries) {
    const std::string path = user_config_path(context.getenv_fn);
    if (path.empty())
        throw UsageError("--save user: no user config path (set HOME or XDG_CONFIG_HOME)");
    const std::string before = read_text(path);
    std::optional<std::string> after = with_allow_domains(before, entries, path);
    if (!after) {
        std::cerr << "rustyolo: " << path << " already allows every entry; unchanged\n";
        return;
    }
    struct stat st{};
    const mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
    write_atomically(path, *after, mode);
    std::cerr << "rustyolo: saved to " << path << ":\n" << line_diff(before, *after);
}

std::vector<std::string> project_file_widening(const Context &context, const std::string &path,
                                               const std::string &content) {
    const std::string dir = fs::path(path).parent_path().string();
    ConfigLayer project = parse_config_text(content, path, Source::project_file);
    std::vector<ConfigLayer> layers{default_layer()};
    std::string user_path = user_config_path(context.getenv_fn);
    std::error_code ec;
    if (!user_path.empty() && fs::exists(user_path, ec))
        layers.push_back(load_config_file(user_path, Source::user_file));
    std::vector<ConfigLayer> with_project = layers;
    with_project.push_back(project);
    std::vector<std::string> inside =
        paths_into_project(project, dir, context.home, read_write_volume_dirs(with_project, context.home, dir));
    if (!inside.empty())
        throw UsageError(paths_into_project_error(path, inside));
    return widening_changes(project, merge(layers));
}

void save_to_project_config(Context &context, const std::string &project, const std::vector<std::string> &entries) {
    std::error_code ec;
    const fs::path dir = fs::canonical(project, ec);
    if (ec)
        throw UsageError("--save project: the session's project " + project + ": " + ec.message());
    const std::string path = (dir / ".rustyolo.toml").string();
    const std::string before = read_project_config(path).value_or("");
    std::optional<std::string> after = with_allow_domains(before, entries, path);
    if (!after) {
        std::cerr << "rustyolo: " << path << " already allows every entry; unchanged\n";
        return;
    }
    std::cerr << "rustyolo: --save project changes " << path << ":\n" << line_diff(before, *after);
    // Trust covers the whole content, not only the line added: say everything it accepts, and
    // whether the rest of the file was trusted before.
    TrustStore store(state_dir(context.getenv_fn));
    const std::vector<std::string> widening = project_file_widening(context, path, *after);
    const bool was_trusted = before.empty() || store.is_trusted(path, before);
    std::cerr << "Trusting the new content accepts everything in it that widens the policy:\n";
    for (const std::string &change : widening)
        std::cerr << "  - " << change << "\n";
    if (!was_trusted && !widening.empty())
        std::cerr << "Warning: the file's current content was NOT trusted, and it widens the policy: trusting "
                     "the new content accepts all of the above. Review the whole file before you answer.\n";
    if (!::isatty(0))
        throw UsageError("--save project needs a terminal to confirm the change; nothing was written (the entries are "
                         "allowed in the running session)");
    std::cerr << "Write it and trust the new content? [y/N] ";
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) {
        std::cerr << "rustyolo: not written\n";
        return;
    }
    // The content about to be trusted is the one shown; the file is written, then read back.
    write_atomically(path, *after, 0644);
    const std::string written = read_project_config(path).value_or("");
    if (written != *after)
        throw Error(path + " changed while it was being written; it is not trusted");
    store.trust(path, written);
    std::cerr << "rustyolo: wrote and trusted " << path << " (trust store " << store.file() << ")\n";
}

}  // namespace rustyolo::cli
