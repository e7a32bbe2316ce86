// Runs a program with an argv vector (never a shell), feeds it `input` on stdin and collects its
// output. Used for iptables-restore and iptables-save.
#pragma once

#include <string>
#include <vector>

namespace rustyolo::ipt {

struct ProgramResult {
    int status = -1;  // exit status; 128 + signal if it was killed
    std::string out;
    std::string err;
};

// Throws std::runtime_error if the program cannot be started at all.
ProgramResult run_program(const std::vector<std::string> &argv, const std::string &input);

}  // namespace rustyolo::ipt
