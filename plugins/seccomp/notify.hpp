// Denials that are reported: the same policy, with its SCMP_ACT_ERRNO actions turned into
// SCMP_ACT_NOTIFY wherever the notification alone (ABI, syscall number, arguments) tells which
// errno the policy would have returned. The supervisor receives the notification, answers with
// exactly that errno and writes an audit record; the agent sees the same result as without
// reporting.
//
// Where the notification cannot tell (one syscall with ERRNO rules of different errnos, or
// conditional ERRNO rules under an ERRNO default action with another errno, or syscalls that
// share a multiplexer such as i386 socketcall with different errnos), those rules stay plain
// SCMP_ACT_ERRNO: the call is still denied with its errno, but silently (see `silent`).
#pragma once

#include "plugins/seccomp/filter.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::seccomp {

// The syscalls the entrypoint may make between loading the filter and handing its notification
// fd to the supervisor (plugin_abi.h, syscall.install). A notified call in that window would wait
// for an answer nobody can give yet, so a policy that might deny any of these is loaded without
// reporting (and a warning says so).
const std::vector<std::string_view> &handover_syscalls();

struct ReportingFilter {
    // The filter to load instead of the policy; nullopt when there is nothing to report (no
    // ERRNO action) or reporting is impossible (`warning` says why).
    std::optional<Filter> filter;
    // What the supervisor answers, by syscall name (the same on every ABI):
    // {"default": {"errno": int, "rule": string} | null,
    //  "syscalls": {name: {"errno": int, "rule": string}}}.
    // A notified call whose name is not under "syscalls" came from the default action.
    boost::json::object errnos;
    // Syscalls with ERRNO rules whose denials are not reported (sorted).
    std::vector<std::string> silent;
    // Non-empty when the policy denies with errnos but cannot be reported; for a warning.
    std::string warning;
};

// Derives the reporting variant of `policy` (not loaded). Never throws for a policy that built:
// when libseccomp or the kernel cannot do user notification, `warning` says so.
ReportingFilter reporting_filter(const Filter &policy);

}  // namespace rustyolo::seccomp
