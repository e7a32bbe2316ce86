// The project's .rustyolo.toml as the CLI reads it (core/cli/context.cc, load_config): parsed with
// parse_config_text, compared with the policy before it (widening_changes), then either the trust
// store is asked about this exact content and the error for an untrusted file is built, or the
// project is merged as a narrowing (apply_project_narrowing).
#include "core/config/config.hpp"
#include "core/config/config_toml.hpp"
#include "core/config/trust.hpp"
#include "core/error.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
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
    std::string state_dir;
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
    } catch (const UsageError &) {
        // values the merge refuses (e.g. audit sinks), with a message
    }
    return 0;
}
