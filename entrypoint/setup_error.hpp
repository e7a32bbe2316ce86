// How the entrypoint fails: a set-up step that cannot be completed names itself and why, main
// prints it once and the container exits 125, which Docker also uses for "the container could not
// be started" and which tells a sandbox failure apart from the agent's own exit codes.
#pragma once

#include "core/private_header.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace rustyolo::entrypoint {

inline constexpr int kExitSetupFailed = 125;  // the sandbox could not be set up
inline constexpr int kExitExecFailed = 127;   // the agent's program could not be run

class SetupError : public std::runtime_error {
public:
    SetupError(std::string step, const std::string &message)
        : std::runtime_error(message), step_(std::move(step)) {}
    const std::string &step() const { return step_; }

private:
    std::string step_;
};

// "<step>: <why>", without repeating the step when the message already starts with it
// (the Plan parser's messages start with "plan: ").
inline std::string describe(const SetupError &e) {
    const std::string message = e.what();
    const std::string prefix = e.step() + ": ";
    return message.rfind(prefix, 0) == 0 ? message : prefix + message;
}

// "<what>: <strerror(errno)>", as a std::runtime_error (wrapped into a SetupError by run_step).
[[noreturn]] inline void throw_errno(const std::string &what, int error = errno) {
    throw std::runtime_error(what + ": " + std::strerror(error));
}

// Runs one step of the procedure; any failure inside becomes a SetupError naming the step.
template <class Fn>
auto run_step(const char *step, Fn &&fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const SetupError &) {
        throw;
    } catch (const std::exception &e) {
        throw SetupError(step, e.what());
    }
}

}  // namespace rustyolo::entrypoint
