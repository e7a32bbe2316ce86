// rustyolo: run an AI coding agent in YOLO mode inside a hardened container.
#include "core/cli/arguments.hpp"
#include "core/cli/commands.hpp"
#include "core/cli/context.hpp"
#include "core/error.hpp"
#include "core/cli/run_options.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

namespace {

using namespace rustyolo;

int dispatch(const std::vector<std::string> &args) {
    cli::RunOptions options;
    auto app = cli::make_run_app(options);
    cli::SplitArgs split = cli::split_arguments(args, cli::option_table(*app));

    std::vector<std::string> reversed(split.options.rbegin(), split.options.rend());
    try {
        app->parse(reversed);
    } catch (const CLI::ParseError &e) {
        // --help and --version end here with 0; every parse error is bad input: exit 2.
        if (app->exit(e) == 0)
            return 0;
        std::cerr << "Options for the agent go after its name, or after --, e.g. "
                     "`rustyolo claude -- --help`.\n";
        return 2;
    }
    cli::finish(options, *app);
    if (options.debug)
        spdlog::set_level(spdlog::level::debug);

    cli::Context context = cli::make_context([](const char *name) { return std::getenv(name); });
    // trust judges the project file itself; allow and deny act on a session that has its config.
    const bool project_config = split.verb != "trust" && split.verb != "allow" && split.verb != "deny";
    cli::load_config(context, options.layer, project_config);
    cli::load_plugins(context, context.config.plugins);

    if (split.verb == "plugins")
        return cli::list_plugins(context, split.command_args);
    if (split.verb == "trust")
        return cli::trust_command(context, split.command_args);
    if (split.verb == "image")
        return cli::image_command(context, split.command_args);
    if (split.verb == "update")
        return cli::update_command(context, split.command_args);
    if (split.verb == "audit")
        return cli::audit_command(context, split.command_args);
    if (split.verb == "allow" || split.verb == "deny")
        return cli::live_command(context, split.verb, split.command_args);
    return cli::run_session(context, options, split);
}

}  // namespace

int main(int argc, char **argv) {
    auto logger = spdlog::stderr_color_mt("rustyolo");
    logger->set_pattern("rustyolo: %^%l%$: %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);

    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        return dispatch(args);
    } catch (const cli::ReportedError &e) {
        return e.code;
    } catch (const std::exception &e) {
        return cli::report_error(e);
    }
}
