// What every agent plugin shares: the manifest of one agent, turned into the agent profile answer
// (see docs/plugin-guide.md, "Agent profile"), the sandbox message, and the pinned npm version
// (agents/pins.txt, generated into agent_pins.hpp at configure time). SDK only.
//
// An agent's plugin fills a Manifest and serves it with ManifestAgent:
//
//     Manifest m;
//     m.agent = "codex";
//     m.yolo_args = {"--dangerously-bypass-approvals-and-sandbox"};
//     m.egress = {{"api.openai.com", "the OpenAI API"}};
//     ...
//     class Codex : public ManifestAgent { ... manifest() returns m ... };
#pragma once

#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/plugin.hpp>

#include "agent_pins.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rustyolo::agents {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

// The message that tells the agent it runs in the sandbox (what is read-only, what the network
// allows, and to ask the operator for `rustyolo allow DOMAIN` instead of working around a block).
inline constexpr const char *kSandboxMessage =
    "You are operating within a sandboxed container with restricted access. The sandbox enforces "
    "four layers of security: (1) Filesystem isolation - you can only access the mounted project "
    "directory (some of its files, such as .git/hooks, .git/config, editor settings and the settings "
    "of coding agents, are read-only) and explicitly mounted volumes; (2) Privilege isolation - you "
    "run as a non-root user with no capabilities; (3) Network isolation - outbound traffic is blocked "
    "except to explicitly allowed domains, and DNS only resolves those domains: a name that is not "
    "allowed fails at once as not found (NXDOMAIN, with the reason in the DNS answer's extended "
    "error), and a connection to an address that is not allowed is refused at once (connection "
    "refused, or host unreachable / administratively prohibited for UDP). That is the sandbox's "
    "policy, not a network fault: do not retry it or look for a way around it; (4) Syscall isolation "
    "- dangerous system calls are blocked. If the task needs a domain that is blocked, stop and ask "
    "the operator to approve it by running `rustyolo allow DOMAIN` (or `rustyolo allow DOMAIN:PORT`) "
    "in a terminal on the host; name the exact domain and why you need it. For any other access, ask "
    "the operator to adjust the sandbox configuration.";

// The sandbox message for this request: the configured inject_message (the word "none", in any
// case, means no message), else kSandboxMessage. Empty: inject nothing.
inline std::string sandbox_message(const sdk::JsonReader &request) {
    const auto inject = request.optional_str("inject_message");
    if (!inject)
        return kSandboxMessage;
    std::string lowered = *inject;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lowered == "none" ? std::string() : *inject;
}

// The pin of `agent` in agents/pins.txt; a plugin whose agent has no pin is a build mistake.
inline const Pin &pin_of(const std::string &agent) {
    for (const Pin &pin : kPins)
        if (agent == pin.agent)
            return pin;
    throw std::logic_error("agent " + agent + " has no line in agents/pins.txt; add \"" + agent +
                           " PACKAGE VERSION\" there");
}

// A value with the reason it is there: an egress entry, a declined host, a protected path.
struct Reasoned {
    std::string value;
    std::string reason;
};

// Appends each of `values` to `out` with one shared reason (e.g. a group of documentation links).
inline void add_each(std::vector<Reasoned> &out, std::initializer_list<const char *> values, const std::string &reason) {
    for (const char *value : values)
        out.push_back(Reasoned{value, reason});
}

struct Manifest {
    std::string agent;       // the name `rustyolo NAME` runs; also its line in agents/pins.txt
    std::string executable;  // argv[0]
    // Always first, before the user's args or the YOLO args (e.g. settings that switch telemetry off).
    std::vector<std::string> fixed_args;
    // The agent's own skip-permissions / auto-approve flags; the user's args replace them.
    std::vector<std::string> yolo_args;
    std::vector<Reasoned> egress;   // allow entries the agent needs, each with its reason
    std::vector<Reasoned> decline;  // hosts its files name that are not allowed, each with why not
    std::vector<std::string> vendor_domains;  // the drift scan watches every host under these
    std::vector<std::string> env_passthrough;
    std::vector<std::pair<std::string, std::string>> env;
    std::vector<std::pair<std::string, std::string>> persist;  // name under --auth-home, target
    std::vector<Reasoned> protect;  // project paths the agent reads as configuration or code
    // Puts the sandbox message (non-empty) where the agent reads it: args appended after the
    // user's or YOLO args, or the fixed args, or an env variable. Null: the agent has no way to
    // take an appended system prompt, and the message is not injected (its docs section says so).
    std::function<void(const std::string &message, std::vector<std::string> &argv,
                       std::vector<std::pair<std::string, std::string>> &env)>
        inject;
};

// The agent profile answer for `m` and `request` (the host's agent profile request).
inline json::value profile_of(const Manifest &m, const json::object &request) {
    const sdk::JsonReader r(request, "agent profile request");
    std::vector<std::string> argv{m.executable};
    argv.insert(argv.end(), m.fixed_args.begin(), m.fixed_args.end());
    if (r.boolean_or("user_args", false)) {
        for (auto &arg : r.strings("args"))
            argv.push_back(std::move(arg));
    } else {
        argv.insert(argv.end(), m.yolo_args.begin(), m.yolo_args.end());
    }
    auto env = m.env;
    if (const std::string message = sandbox_message(r); !message.empty() && m.inject)
        m.inject(message, argv, env);

    auto reasoned = [](const std::vector<Reasoned> &list, const char *value_key) {
        json::array out;
        for (const auto &item : list)
            out.push_back(json::object{{value_key, item.value}, {"reason", item.reason}});
        return out;
    };
    json::object env_object;
    for (const auto &[name, value] : env)
        env_object[name] = value;
    json::array persist;
    for (const auto &[name, target] : m.persist)
        persist.push_back(json::object{{"name", name}, {"target", target}});
    const Pin &pin = pin_of(m.agent);
    return json::object{
        {"argv", json::value_from(argv)},
        {"version", pin.version},
        {"egress", reasoned(m.egress, "entry")},
        {"decline", reasoned(m.decline, "host")},
        {"vendor_domains", json::value_from(m.vendor_domains)},
        {"env_passthrough", json::value_from(m.env_passthrough)},
        {"env", std::move(env_object)},
        {"persist", std::move(persist)},
        {"protect", reasoned(m.protect, "path")},
        {"install", json::object{{"npm", json::array{std::string(pin.package) + "@" + pin.version}}}},
    };
}

// Appends `flag MESSAGE` after the args (the common --append-system-prompt style).
inline auto append_flag(std::string flag) {
    return [flag = std::move(flag)](const std::string &message, std::vector<std::string> &argv,
                                    std::vector<std::pair<std::string, std::string>> &) {
        argv.push_back(flag);
        argv.push_back(message);
    };
}

// An agent plugin that serves one manifest.
class ManifestAgent : public sdk::Plugin, public sdk::AgentHook {
public:
    using sdk::Plugin::Plugin;

    virtual Manifest manifest() const = 0;

    std::vector<std::string> agent_names() override { return {manifest().agent}; }
    json::value agent_profile(const json::object &request) override { return profile_of(manifest(), request); }
};

}  // namespace rustyolo::agents
