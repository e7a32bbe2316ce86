// Runs iptables-restore and iptables-save: an absolute path with an argv vector (never a shell),
// `input` on stdin, stdout and stderr collected, through the SDK's runner (<rustyolo/sdk/process.hpp>)
// with a fixed environment (PATH=/usr/sbin:/usr/bin:/sbin:/bin only) and a 30 s limit.
#pragma once

#include <string>
#include <vector>

namespace rustyolo::ipt {

struct ProgramResult {
    int status = -1;  // exit status; 128 + signal if it was killed (sdk::ExitStatus::code)
    std::string out;
    std::string err;
};

// Throws std::runtime_error if the program cannot be started at all, its output exceeds 64 MiB,
// or it has not finished after 30 s (it is killed then).
ProgramResult run_program(const std::vector<std::string> &argv, const std::string &input);

}  // namespace rustyolo::ipt
