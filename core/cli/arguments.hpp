// Splits the command line into rustyolo's options, the verb or agent name, and the agent's args.
//
//   rustyolo [OPTIONS] [AGENT] [OPTIONS] [--] [AGENT ARGS...]
//   rustyolo [OPTIONS] plan [AGENT] [...]      rustyolo [OPTIONS] exec -- CMD [ARGS...]
//   rustyolo [OPTIONS] shell                    rustyolo plugins | trust | update | image | audit
//   rustyolo allow | deny ENTRY... [--session ID]   (a running session's policy)
//
// rustyolo's own run options may stand before or right after the agent name. The first word after
// the agent name that is not a rustyolo option starts the agent's args, and so does `--` (which is
// dropped); from there on everything goes to the agent verbatim, e.g. `rustyolo claude --version`
// prints Claude Code's version.
#pragma once

#include "core/private_header.hpp"

#include <set>
#include <string>
#include <vector>

namespace rustyolo::cli {

struct SplitArgs {
    std::vector<std::string> options;      // rustyolo's run options, in order
    std::string verb;                      // "", "plan", "exec", "shell", or a management command
    std::string agent;                     // empty: the configured default
    std::vector<std::string> agent_args;
    bool agent_args_given = false;
    std::vector<std::string> command_args; // for management commands: everything after the verb
};

// Which option names take a value and which are flags (derived from the CLI11 definitions).
struct OptionTable {
    std::set<std::string> with_value;
    std::set<std::string> flags;
    bool known(const std::string &name) const { return with_value.count(name) || flags.count(name); }
};

SplitArgs split_arguments(const std::vector<std::string> &args, const OptionTable &table);

bool is_management_command(const std::string &word);

}  // namespace rustyolo::cli
