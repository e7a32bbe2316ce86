#include "core/cli/arguments.hpp"

namespace rustyolo::cli {

namespace {

// Consumes one option (and its value) at args[i]; returns how many words it used, 0 if args[i] is
// not a known option.
std::size_t take_option(const std::vector<std::string> &args, std::size_t i, const OptionTable &table,
                        std::vector<std::string> &into) {
    const std::string &word = args[i];
    if (word.size() < 2 || word[0] != '-' || word == "--")
        return 0;
    std::string name = word.substr(0, word.find('='));
    if (table.with_value.count(name)) {
        into.push_back(word);
        if (word.find('=') != std::string::npos || i + 1 >= args.size())
            return 1;
        into.push_back(args[i + 1]);
        return 2;
    }
    if (table.flags.count(name)) {
        into.push_back(word);
        return 1;
    }
    return 0;
}

}  // namespace

bool is_management_command(const std::string &word) {
    return word == "plugins" || word == "trust" || word == "update" || word == "image" || word == "audit" ||
           word == "allow" || word == "deny";
}

SplitArgs split_arguments(const std::vector<std::string> &args, const OptionTable &table) {
    SplitArgs out;
    std::size_t i = 0;
    // Options before the verb/agent: unknown options are kept for CLI11 to report.
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--") {
        std::size_t used = take_option(args, i, table, out.options);
        if (used == 0) {
            out.options.push_back(args[i]);
            used = 1;
        }
        i += used;
    }
    if (i < args.size() && args[i] == "--")
        ++i;
    if (i >= args.size())
        return out;

    std::string word = args[i++];
    if (is_management_command(word)) {
        out.verb = word;
        out.command_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
        return out;
    }
    if (word == "plan") {
        out.verb = "plan";
        if (i < args.size() && args[i] != "--" && args[i][0] != '-')
            out.agent = args[i++];
    } else if (word == "exec" || word == "shell") {
        out.verb = word;
        out.agent = word;
    } else {
        out.agent = word;
    }
    // Run options right after the agent name, up to the first word that is not one.
    while (i < args.size()) {
        if (args[i] == "--") {
            ++i;
            out.agent_args_given = i < args.size();
            break;
        }
        std::size_t used = take_option(args, i, table, out.options);
        if (used == 0) {
            out.agent_args_given = true;
            break;
        }
        i += used;
    }
    out.agent_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return out;
}

}  // namespace rustyolo::cli
