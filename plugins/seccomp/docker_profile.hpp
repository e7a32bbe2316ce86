// Translates a Docker-format seccomp profile (the JSON that `docker run --security-opt
// seccomp=FILE` and the seed's --seccomp-profile take) into a libseccomp filter, with runc's
// semantics for the parts Docker leaves implicit.
#pragma once

#include "plugins/seccomp/filter.hpp"

#include <boost/json.hpp>

namespace rustyolo::seccomp {

// The machine the profile is applied on; the defaults describe this process.
struct ProfileTarget {
    std::vector<std::uint32_t> arches = machine_arches();  // native first
    std::string kernel_release;                            // uname -r; empty: this kernel's
};

// Builds (does not load) the filter:
//   - defaultAction / defaultErrnoRet; syscalls[] with names (or name), action, errnoRet, args
//     ({index, value, valueTwo, op}); SCMP_CMP_MASKED_EQ takes value as the mask and valueTwo as
//     the expected result, as in Docker;
//   - conditions on different arguments of one rule must all hold; several on the same argument
//     become separate rules (any may match), as runc does;
//   - archMap/architectures narrow the ABIs to those of this machine the profile lists;
//   - includes/excludes: caps (the agent has none), arches (this machine's), minKernel;
//   - names libseccomp does not know, or that no ABI of this machine has, are skipped (debug
//     log); a rule whose action is the default action is redundant and skipped.
// Throws std::invalid_argument for a malformed profile, std::runtime_error naming the syscall
// when libseccomp refuses a rule.
Filter profile_filter(const boost::json::value &profile, const Log &log, const ProfileTarget &target = {});

}  // namespace rustyolo::seccomp
