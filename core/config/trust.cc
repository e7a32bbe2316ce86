// Project config trust: what a project config widens, and the store of trusted file contents.
#include "core/config/trust.hpp"

#include <rustyolo/sdk/text.hpp>
#include <rustyolo/sdk/unique_fd.hpp>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <openssl/evp.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "core/error.hpp"

namespace rustyolo {

namespace {

// ---------------------------------------------------------------------------------------------
// Wording helpers. Values come from an agent-writable file: quote them and escape control chars.

using text::quoted;

std::string join(const std::vector<std::string> &words) { return text::join(words, " "); }

// How the base's current value reads in a sentence.
std::string current(std::string_view value, std::string_view when_empty) {
    return value.empty() ? std::string(when_empty) : std::string(value);
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// ---------------------------------------------------------------------------------------------
// Resource limits, parsed just enough to compare. The resources plugin validates strictly later.

enum class LimitKind { memory, cpus, pids };

constexpr double kNoLimit = std::numeric_limits<double>::infinity();

// The limit as a number (bytes, cpus, pids); kNoLimit for "unlimited" and for values <= 0 (which
// the engine reads as "no limit"); nullopt when the text is not a plain number of the kind.
std::optional<double> parse_limit(std::string_view text, LimitKind kind) {
    if (lowercase(text) == "unlimited") return kNoLimit;
    std::size_t end = 0;
    if (end < text.size() && text[end] == '-') ++end;
    const std::size_t digits_start = end;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == digits_start) return std::nullopt;
    if (kind != LimitKind::pids && end < text.size() && text[end] == '.') {
        ++end;
        const std::size_t fraction_start = end;
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
        if (end == fraction_start) return std::nullopt;
    }
    double number = 0;
    const auto result = std::from_chars(text.data(), text.data() + end, number);
    if (result.ec != std::errc() || result.ptr != text.data() + end) return std::nullopt;

    auto suffix = lowercase(text.substr(end));
    double scale = 1;
    if (kind == LimitKind::memory && !suffix.empty()) {
        if (suffix.size() == 2 && suffix[1] == 'b') suffix.pop_back();  // "4gb" as the engine allows
        static constexpr std::string_view kUnits = "bkmgt";
        const auto unit = suffix.size() == 1 ? kUnits.find(suffix[0]) : std::string_view::npos;
        if (unit == std::string_view::npos) return std::nullopt;
        scale = std::pow(1024.0, static_cast<double>(unit));
        suffix.clear();
    }
    if (!suffix.empty()) return std::nullopt;
    if (number <= 0) return kNoLimit;
    return number * scale;
}

void check_limit(std::vector<std::string> &changes, const char *key, const std::optional<std::string> &value,
                 const std::string &base, LimitKind kind) {
    if (!value || *value == base) return;
    const std::string setting = "[resources] " + std::string(key) + " = " + quoted(*value);
    const auto wanted = parse_limit(*value, kind);
    const auto have = parse_limit(base, kind);
    if (!wanted || !have) {
        changes.push_back(setting + " could not be compared with the current " + current(base, "(none)") +
                          ", so it counts as a widening");
    } else if (*wanted > *have) {
        changes.push_back(setting + (std::isinf(*wanted) ? " means no limit, higher than the current "
                                                         : " is higher than the current ") +
                          current(base, "(none)"));
    }
}

// ---------------------------------------------------------------------------------------------
// Audit levels.

std::optional<int> audit_rank(std::string_view level) {
    const auto name = lowercase(level);
    if (name == "none") return 0;
    if (name == "basic") return 1;
    if (name == "verbose") return 2;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Allow entries: "name", "name:port", "*.suffix[:port]", CIDRs. Compared case-insensitively, trailing
// dot ignored. A base wildcard "*.s" allows "x.s" and "*.x.s" (not "s" itself) on the same port; a
// base entry without a port (80 and 443) also allows the same host on port 80 or 443.

struct AllowEntry {
    std::string host;
    std::string port;  // empty: the default ports
};

AllowEntry split_entry(std::string_view text) {
    auto entry = lowercase(text);
    std::string port;
    const auto colon = entry.find(':');
    const bool host_port = colon != std::string::npos && entry.find(':', colon + 1) == std::string::npos &&
                           entry.find('/') == std::string::npos;
    if (host_port) {
        port = entry.substr(colon + 1);
        entry.resize(colon);
    }
    if (!entry.empty() && entry.back() == '.') entry.pop_back();
    return {entry, port};
}

bool host_covered(const std::string &host, const std::string &base_host) {
    if (host == base_host) return true;
    if (base_host.size() < 3 || base_host.compare(0, 2, "*.") != 0) return false;
    const std::string_view suffix = std::string_view(base_host).substr(1);  // ".s"
    return host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool port_covered(const std::string &port, const std::string &base_port) {
    return port == base_port || (base_port.empty() && (port == "80" || port == "443"));
}

bool allowed_by(const std::string &entry, const std::vector<std::string> &base) {
    const auto wanted = split_entry(entry);
    return std::any_of(base.begin(), base.end(), [&](const std::string &b) {
        const auto have = split_entry(b);
        return host_covered(wanted.host, have.host) && port_covered(wanted.port, have.port);
    });
}

bool same_servers(std::vector<std::string> a, std::vector<std::string> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
}

void check_replaced(std::vector<std::string> &changes, const char *table, const char *key,
                    const std::optional<std::string> &value, const std::string &base, std::string_view when_empty,
                    std::string_view why = {}) {
    if (!value || *value == base) return;
    changes.push_back("[" + std::string(table) + "] " + key + " = " + quoted(*value) + " replaces the current " +
                      current(base, when_empty) + std::string(why));
}

// ---------------------------------------------------------------------------------------------
// Store helpers.

[[noreturn]] void store_failure(const std::string &what, const std::string &path, int error) {
    throw Error(what + " " + path + ": " + std::strerror(error));
}

// mkdir -p, creating every missing component with mode 0700.
void make_private_dirs(const std::string &dir) {
    if (dir.empty()) store_failure("cannot use state directory", "(empty path)", ENOENT);
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        const std::string prefix = dir.substr(0, pos);
        if (prefix.empty()) continue;
        if (::mkdir(prefix.c_str(), 0700) == 0) {
            // mkdir's mode is masked by the umask; a new state directory is 0700 whatever it is.
            if (::chmod(prefix.c_str(), 0700) != 0) store_failure("cannot set mode 0700 on", prefix, errno);
            continue;
        }
        const int error = errno;
        struct stat info {};
        if (::stat(prefix.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
            store_failure("cannot create directory", prefix, error);
        }
    }
}

// The "trusted" object of the store: canonical path → sha256 hex. Empty when the store does not exist.
boost::json::object read_trusted(const std::string &file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return {};
        store_failure("cannot read trust store", file, errno);
    }
    std::string text;
    char buffer[8192];
    for (;;) {
        const auto got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) store_failure("cannot read trust store", file, errno);
        if (got == 0) break;
        text.append(buffer, static_cast<std::size_t>(got));
    }
    const auto corrupt = [&](const std::string &why) {
        return Error("trust store " + file + " is not valid (" + why +
                     "); move it away and run `rustyolo trust` again for the projects you trust");
    };
    boost::system::error_code ec;
    auto document = boost::json::parse(text, ec);
    if (ec) throw corrupt(ec.message());
    const auto *root = document.if_object();
    if (root == nullptr) throw corrupt("not a JSON object");
    const auto *version = root->if_contains("version");
    if (version == nullptr || !version->is_int64() || version->as_int64() != 1) throw corrupt("unknown version");
    const auto *trusted = root->if_contains("trusted");
    if (trusted == nullptr || !trusted->is_object()) throw corrupt("no \"trusted\" object");
    for (const auto &item : trusted->as_object()) {
        if (!item.value().is_string()) throw corrupt("entry for " + std::string(item.key()) + " is not a string");
    }
    return trusted->as_object();
}

void write_all(int fd, const std::string &data, const std::string &path) {
    std::size_t done = 0;
    while (done < data.size()) {
        const auto written = ::write(fd, data.data() + done, data.size() - done);
        if (written < 0) {
            if (errno == EINTR) continue;
            store_failure("cannot write", path, errno);
        }
        done += static_cast<std::size_t>(written);
    }
}

// Writes `data` to `file` through a temporary file in the same directory and rename(2).
void replace_file(const std::string &file, const std::string &data) {
    std::string temp = file + ".XXXXXX";
    UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (fd.get() < 0) store_failure("cannot create temporary file next to", file, errno);
    try {
        if (::fchmod(fd.get(), 0600) != 0) store_failure("cannot set mode 0600 on", temp, errno);
        write_all(fd.get(), data, temp);
        if (::fsync(fd.get()) != 0) store_failure("cannot flush", temp, errno);
        if (::close(fd.release()) != 0) store_failure("cannot close", temp, errno);
        if (::rename(temp.c_str(), file.c_str()) != 0) store_failure("cannot replace", file, errno);
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::vector<std::string> widening_changes(const ConfigLayer &project, const Config &base) {
    std::vector<std::string> changes;

    // [default]
    if (project.allow_domains) {
        for (const auto &entry : *project.allow_domains) {
            if (!allowed_by(entry, base.allow_domains)) {
                changes.push_back("[default] allow_domains adds " + quoted(entry) +
                                  ", which the current config does not allow");
            }
        }
    }
    for (const auto &volume : project.volumes) {
        changes.push_back("[default] volumes adds the mount " + quoted(volume));
    }
    for (const auto &variable : project.env) {
        changes.push_back("[default] env passes " + quoted(variable) + " into the container");
    }
    check_replaced(changes, "default", "auth_home", project.auth_home, base.auth_home, "(none)",
                   ", a host directory mounted into the container");
    check_replaced(changes, "default", "image", project.image, base.image, "(none)",
                   "; the image decides what runs in the container");
    check_replaced(changes, "default", "agent", project.agent, base.agent, "(none)",
                   "; the agent decides what code runs");

    // [resources]
    check_limit(changes, "memory", project.memory, base.memory, LimitKind::memory);
    check_limit(changes, "cpus", project.cpus, base.cpus, LimitKind::cpus);
    check_limit(changes, "pids_limit", project.pids_limit, base.pids_limit, LimitKind::pids);
    check_limit(changes, "tmp_size", project.tmp_size, base.tmp_size.value_or(""), LimitKind::memory);
    check_limit(changes, "home_size", project.home_size, base.home_size.value_or(""), LimitKind::memory);

    // [security]
    check_replaced(changes, "security", "seccomp_profile", project.seccomp_profile, base.seccomp_profile,
                   "(none)");
    if (project.dns_servers && !same_servers(*project.dns_servers, base.dns_servers)) {
        const bool any = std::any_of(project.dns_servers->begin(), project.dns_servers->end(),
                                     [](const std::string &s) { return lowercase(s) == "any"; });
        changes.push_back("[security] dns_servers = " + quoted(join(*project.dns_servers)) +
                          (any ? " turns off DNS name filtering (current resolvers: "
                               : " replaces the current resolvers (") +
                          current(join(base.dns_servers), "the engine's own") + ")");
    }
    if (project.audit_log && *project.audit_log != base.audit_log) {
        const std::string setting = "[security] audit_log = " + quoted(*project.audit_log);
        const auto wanted = audit_rank(*project.audit_log);
        const auto have = audit_rank(base.audit_log);
        if (!wanted || !have) {
            changes.push_back(setting + " could not be compared with the current " +
                              current(base.audit_log, "(none)") + ", so it counts as a widening");
        } else if (*wanted < *have) {
            changes.push_back(setting + " is lower than the current " + base.audit_log);
        }
    }
    // Audit sinks: a project may add sinks, never drop one or move where records go.
    if (project.audit_sinks) {
        for (const auto &sink : base.audit_sinks) {
            if (std::find(project.audit_sinks->begin(), project.audit_sinks->end(), sink) ==
                project.audit_sinks->end()) {
                changes.push_back("[security] audit_sinks = " + quoted(join(*project.audit_sinks)) +
                                  " drops the audit sink " + quoted(sink) + " (current sinks: " +
                                  join(base.audit_sinks) + ")");
            }
        }
    }
    check_replaced(changes, "security", "audit_syslog_socket", project.audit_syslog_socket,
                   base.audit_syslog_socket, "(none)", ", where the syslog sink sends records");
    check_replaced(changes, "security", "audit_dir", project.audit_dir, base.audit_dir, "default directory",
                   ", where the file sink writes records");
    // A lower cap on the audit file drops detail sooner (the totals stay exact): the agent could
    // hide what it did among fewer records, so only a trusted project may lower it.
    if (project.audit_max_bytes && *project.audit_max_bytes < base.audit_max_bytes)
        changes.push_back("[security] audit_max_bytes = " + std::to_string(*project.audit_max_bytes) +
                          " is lower than the current " + std::to_string(base.audit_max_bytes) +
                          " bytes, so the audit file would keep less detail");
    // inject_message only changes what the agent is told: not a widening.

    // [network]
    check_replaced(changes, "network", "network", project.network, base.network, "default network");
    if (project.allow_lan.value_or(false) && !base.allow_lan) {
        changes.push_back("[network] allow_lan = true opens the local network, which the current config keeps closed");
    }
    check_replaced(changes, "network", "firewall", project.firewall, base.firewall, "(none)");

    // [runtime]
    check_replaced(changes, "runtime", "runtime", project.runtime, base.runtime, "default runtime");
    for (const auto &package : project.image_packages) {
        changes.push_back("[image] packages adds the Debian package " + quoted(package) +
                          " to the image `rustyolo image build` builds");
    }
    for (const auto &plugin : project.plugins) {
        changes.push_back("[runtime] plugins loads " + quoted(plugin) + ", code that runs on the host");
    }
    return changes;
}

std::string untrusted_project_error(const std::string &path, const std::vector<std::string> &changes) {
    // The path goes into a command the user may paste: single-quote it unless it is plain.
    const bool plain = !path.empty() && std::all_of(path.begin(), path.end(), [](unsigned char c) {
        return std::isalnum(c) || std::strchr("/._-+,:@%=~", c) != nullptr;
    });
    std::string shell_path = path;
    if (!plain) {
        shell_path = "'";
        for (const char c : path) shell_path += c == '\'' ? std::string("'\\''") : std::string(1, c);
        shell_path += "'";
    }

    std::string message = "project config " + path +
                          " widens the sandbox policy, and this content of it has not been trusted:\n";
    for (const auto &change : changes) message += "  - " + change + "\n";
    message += "A project config may only narrow the policy: the agent can write to it. Review the file, then "
               "run `rustyolo trust " +
               shell_path + "` to trust this exact content, or remove those keys.";
    return message;
}

Config apply_project_narrowing(Config merged, const ConfigLayer &project,
                               const std::vector<ConfigLayer> &later_layers) {
    if (!project.allow_domains) return merged;
    ConfigLayer project_domains;
    project_domains.allow_domains = project.allow_domains;
    std::vector<ConfigLayer> layers{project_domains};
    for (const auto &later : later_layers) {
        ConfigLayer domains_only;
        domains_only.allow_domains = later.allow_domains;
        layers.push_back(domains_only);
    }
    merged.allow_domains = merge(layers).allow_domains;  // union with case-insensitive dedup
    return merged;
}

std::string sha256_hex(std::string_view content) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(content.data(), content.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw Error("cannot compute SHA-256 (OpenSSL EVP_Digest failed)");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0xf];
    }
    return out;
}

TrustStore::TrustStore(std::string state_dir)
    : state_dir_(std::move(state_dir)), file_(state_dir_ + "/trust.json") {}

bool TrustStore::is_trusted(const std::string &canonical_path, std::string_view content) const {
    const auto trusted = read_trusted(file_);
    const auto *hash = trusted.if_contains(canonical_path);
    return hash != nullptr && hash->as_string() == sha256_hex(content);
}

void TrustStore::trust(const std::string &canonical_path, std::string_view content) {
    make_private_dirs(state_dir_);
    auto trusted = read_trusted(file_);
    trusted[canonical_path] = sha256_hex(content);
    const boost::json::object document{{"version", 1}, {"trusted", std::move(trusted)}};
    replace_file(file_, boost::json::serialize(document) + "\n");
}

}  // namespace rustyolo
