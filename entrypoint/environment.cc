#include "entrypoint/environment.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace rustyolo::entrypoint {

namespace {

class EnvBuilder {
public:
    void set(const std::string &name, const std::string &value) {
        auto it =
            std::find_if(entries_.begin(), entries_.end(), [&](const auto &e) { return e.first == name; });
        if (it != entries_.end())
            it->second = value;
        else
            entries_.emplace_back(name, value);
    }
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        out.reserve(entries_.size());
        for (const auto &[name, value] : entries_)
            out.push_back(name + "=" + value);
        return out;
    }

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

void require_variable_name(const std::string &name) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos)
        throw std::runtime_error("plan: /env: \"" + name + "\" is not a valid environment variable name");
}

}  // namespace

std::vector<std::string> agent_environment(const Plan &plan, const AgentAccount &account,
                                           const GetenvFn &getenv_fn) {
    EnvBuilder env;
    env.set("PATH", kAgentPath);
    env.set("HOME", account.home);
    env.set("USER", account.name);
    env.set("LOGNAME", account.name);
    env.set("SHELL", account.shell);
    if (const char *term = getenv_fn("TERM"))
        env.set("TERM", term);
    env.set("LANG", "C.UTF-8");
    for (const PlanEnv &entry : plan.env) {
        require_variable_name(entry.name);
        if (entry.value) {
            env.set(entry.name, *entry.value);
        } else if (const char *value = getenv_fn(entry.name.c_str())) {
            env.set(entry.name, value);
        } else {
            spdlog::debug("environment: {} is not set on the host; not passed", entry.name);
        }
    }
    return env.lines();
}

}  // namespace rustyolo::entrypoint
