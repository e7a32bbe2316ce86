#include "plugins/net-iptables/run_program.hpp"

#include <rustyolo/sdk/process.hpp>

#include <chrono>
#include <stdexcept>

namespace rustyolo::ipt {

namespace {

constexpr std::size_t kOutputLimit = std::size_t{64} << 20;
constexpr std::chrono::seconds kTimeout{30};

}  // namespace

ProgramResult run_program(const std::vector<std::string> &argv, const std::string &input) {
    if (argv.empty() || argv[0].empty() || argv[0].front() != '/')
        throw std::runtime_error("run_program: the program \"" + (argv.empty() ? std::string() : argv[0]) +
                                 "\" is not an absolute path; configure the iptables tools by absolute path");
    sdk::RunOptions options;
    options.argv = argv;
    options.env = std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    options.stdin_mode = sdk::Stdio::pipe;
    options.stdin_data = input;
    options.capture_limit = kOutputLimit;
    options.timeout = kTimeout;
    sdk::RunResult run = sdk::run(options);
    if (run.timed_out)
        throw std::runtime_error(argv[0] + " did not finish within " + std::to_string(kTimeout.count()) +
                                 " s and was killed; is the xtables lock held by another program?");
    if (run.out_truncated || run.err_truncated)
        throw std::runtime_error(argv[0] + " wrote more than " + std::to_string(kOutputLimit >> 20) +
                                 " MiB; its output was not used");
    return ProgramResult{run.code(), std::move(run.out), std::move(run.err)};
}

}  // namespace rustyolo::ipt
