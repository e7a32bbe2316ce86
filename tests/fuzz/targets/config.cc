// The project's .rustyolo.toml as the CLI reads it (core/cli/context.cc, load_config): parsed with
// parse_config_text, its values that name paths inside the project refused (paths_into_project),
// compared with the policy before it (widening_changes), then either the trust
// store is asked about this exact content and the error for an untrusted file is built, or the
// project is merged as a narrowing (apply_project_narrowing).
//
// Properties of a project the trust decision lets through untrusted (it only narrows): read by the
// parsers that later apply the values (the resources plugin's limits, net-common's allow entries),
// no limit is higher and no allow entry opens a name, network or port the policy before it did not.
#include "core/config/config.hpp"
#include "core/config/config_toml.hpp"
#include "core/config/project_file.hpp"
#include "core/config/trust.hpp"
#include "core/error.hpp"

#include "plugins/net-common/allow_entry.hpp"
#include "plugins/resources/resource_parse.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace rustyolo;

constexpr const char *kProjectPath = "/work/project/.rustyolo.toml";

// A user's config.toml with something of every kind to compare against: domains with a wildcard and
// a port, a volume, limits, sinks.
constexpr const char *kUserConfig = R"([default]
allow_domains = "github.com *.npmjs.org pypi.org:443"
volumes = ["~/.cache/pip:/home/agent/.cache/pip:ro"]
env = ["TERM"]
[resources]
memory = "8g"
cpus = "2.5"
pids_limit = 512
[security]
audit_log = "verbose"
dns_servers = "1.1.1.1 9.9.9.9"
audit_sinks = ["file", "syslog"]
[network]
allow_lan = false
)";

struct Fixture {
    std::vector<ConfigLayer> without_project;
    std::vector<ConfigLayer> later;  // the environment and the command line
    std::string state_dir, project_dir, home;
    Fixture() {
        without_project = {default_layer(), parse_config_text(kUserConfig, "/home/user/.config/rustyolo/config.toml",
                                                              Source::user_file)};
        ConfigLayer cli;
        cli.source = Source::cli;
        cli.origin = "command line";
        cli.allow_domains = std::vector<std::string>{"registry.npmjs.org"};
        later = {cli};
        char dir[] = "/tmp/rustyolo-fuzz-trust-XXXXXX";
        if (!::mkdtemp(dir))
            std::abort();
        state_dir = dir;
        project_dir = state_dir + "/project";
        home = state_dir + "/home";
        std::filesystem::create_directories(project_dir + "/tools");
        std::filesystem::create_directories(home);
        std::filesystem::create_symlink(project_dir + "/tools", home + "/tools-link");
        // One trusted content, so the store is read for real (and the hash compared) every time.
        TrustStore(state_dir).trust(kProjectPath, "[default]\nallow_domains = \"example.com\"\n");
    }
    ~Fixture() {
        std::error_code ec;
        std::filesystem::remove_all(state_dir, ec);
    }
};

Fixture &fixture() {
    static Fixture f;
    return f;
}

// The value as the resources plugin reads it; nullopt when it refuses it (the session then does
// not start) or for "unlimited" (no limit: larger than any).
template <class T>
std::optional<std::optional<T>> applied_limit(const std::string &value,
                                              resources::Limit<T> (*parse)(std::string_view, std::string_view)) {
    try {
        return parse(value, "fuzz").value;
    } catch (const sdk::InvalidInput &) {
        return std::nullopt;
    }
}

template <class T>
void check_not_higher(const std::optional<std::string> &project, const std::string &before,
                      resources::Limit<T> (*parse)(std::string_view, std::string_view)) {
    if (!project)
        return;
    const auto wanted = applied_limit(*project, parse);
    const auto have = applied_limit(before, parse);
    if (!wanted || !have)
        return;  // refused when applied
    if (!*wanted)
        fuzz::check(!*have, "a narrowing project removed a limit", *project + " vs " + before);
    else if (*have)
        fuzz::check(**wanted <= **have, "a narrowing project raised a limit", *project + " vs " + before);
}

// Whether `entry` opens nothing that `base` does not, as the network plugins read both.
bool covered(const net::AllowEntry &entry, const std::vector<net::AllowEntry> &base) {
    auto ports_in = [&](const net::AllowEntry &b) {
        return std::includes(b.ports.begin(), b.ports.end(), entry.ports.begin(), entry.ports.end());
    };
    for (const net::AllowEntry &b : base) {
        if (!ports_in(b))
            continue;
        if (b.kind == entry.kind && b.value == entry.value)
            return true;
        if (b.kind == "wildcard" && entry.kind != "cidr") {
            const std::string suffix = b.value.substr(1);  // ".example.com"
            const std::string host = entry.kind == "wildcard" ? entry.value.substr(2) : entry.value;
            if (host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
                return true;
        }
    }
    return false;
}

void check_domains_narrowed(const ConfigLayer &project, const Config &before) {
    if (!project.allow_domains)
        return;
    std::vector<net::AllowEntry> base;
    for (const std::string &text : before.allow_domains) {
        try {
            base.push_back(net::parse_allow_entry(text, before.allow_lan));
        } catch (const sdk::InvalidInput &) {
        }
    }
    for (const std::string &text : *project.allow_domains) {
        net::AllowEntry entry;
        try {
            entry = net::parse_allow_entry(text, before.allow_lan);
        } catch (const sdk::InvalidInput &) {
            continue;  // refused when applied
        }
        fuzz::check(covered(entry, base), "a narrowing project opened an allow entry", text);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    spdlog::set_level(spdlog::level::off);
    fixture();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string content(fuzz::text(data, size));
    Fixture &f = fixture();
    ConfigLayer project;
    try {
        project = parse_config_text(content, kProjectPath, Source::project_file);
    } catch (const UsageError &) {
        return 0;  // the documented refusal: a message naming the file, line and key
    }
    fuzz::check(project.source == Source::project_file && project.origin == kProjectPath, "layer source");
    const std::vector<std::string> inside = paths_into_project(project, f.project_dir, f.home);
    if (!inside.empty()) {
        fuzz::check(!paths_into_project_error(kProjectPath, inside).empty(), "an empty error");
        return 0;  // refused whatever the trust
    }
    try {
        std::vector<std::string> changes = widening_changes(project, merge(f.without_project));
        if (!changes.empty()) {
            const bool trusted = TrustStore(f.state_dir).is_trusted(kProjectPath, content);
            if (!trusted)
                fuzz::check(!untrusted_project_error(kProjectPath, changes).empty(), "untrusted error is empty");
            return 0;
        }
        std::vector<ConfigLayer> layers = f.without_project;
        layers.push_back(project);
        layers.insert(layers.end(), f.later.begin(), f.later.end());
        Config config = apply_project_narrowing(merge(layers), project, f.later);
        // A project that widens nothing grants nothing: every domain was already allowed before it
        // or comes from the later layers.
        const Config before = merge(f.without_project);
        fuzz::check(config.allow_lan == before.allow_lan, "a narrowing project changed allow_lan");
        check_not_higher(project.memory, before.memory, &resources::parse_memory);
        check_not_higher(project.cpus, before.cpus, &resources::parse_cpus);
        check_not_higher(project.pids_limit, before.pids_limit, &resources::parse_pids);
        check_domains_narrowed(project, before);
        fuzz::check(config.volumes == before.volumes && config.env == before.env && config.plugins == before.plugins &&
                        config.image == before.image && config.seccomp_profile == before.seccomp_profile &&
                        config.network == before.network && config.firewall == before.firewall,
                    "a narrowing project changed a setting it may not");
    } catch (const UsageError &) {
        // values the merge refuses (e.g. audit sinks), with a message
    }
    return 0;
}
