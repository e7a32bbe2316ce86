#include "core/config/env_policy.hpp"

#include "core/error.hpp"

#include <array>
#include <cctype>

namespace rustyolo {

namespace {

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 255)
        return false;
    if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
        return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
            return false;
    return true;
}

}  // namespace

bool is_code_loading_variable(std::string_view name) {
    static constexpr std::array<std::string_view, 16> exact{
        "BASH_ENV",  "ENV",           "PROMPT_COMMAND", "SHELLOPTS",  "BASHOPTS",   "IFS",
        "CDPATH",    "GCONV_PATH",    "HOSTALIASES",    "NODE_OPTIONS", "PYTHONSTARTUP",
        "PYTHONPATH", "PERL5OPT",     "PERL5LIB",       "RUBYOPT",    "MALLOC_CHECK_"};
    for (auto e : exact)
        if (name == e)
            return true;
    // The dynamic linker reads every LD_* variable (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ...).
    return name.rfind("LD_", 0) == 0 || name.rfind("GLIBC_TUNABLES", 0) == 0;
}

PlanEnv parse_env_entry(std::string_view entry, std::string_view origin) {
    auto eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    std::string where = std::string(origin);
    if (!valid_name(name))
        throw UsageError(where + " \"" + std::string(entry) +
                         "\": not a valid variable name (letters, digits and '_', not starting with "
                         "a digit); use NAME=VALUE or NAME to pass NAME from your environment");
    if (name.rfind("RUSTYOLO_", 0) == 0)
        throw UsageError(where + " " + std::string(name) +
                         ": RUSTYOLO_* variables control the sandbox itself and cannot be set inside "
                         "it; use the corresponding rustyolo option instead");
    if (is_code_loading_variable(name))
        throw UsageError(where + " " + std::string(name) +
                         ": refused, this variable makes programs load code (it would act on the "
                         "sandbox's own processes); set it from inside the agent's session if needed");
    PlanEnv env{std::string(name), std::nullopt};
    if (eq != std::string_view::npos)
        env.value = std::string(entry.substr(eq + 1));
    return env;
}

}  // namespace rustyolo
