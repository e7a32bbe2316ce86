// The `seccomp` plugin: the syscall policy. Host side: resolves --seccomp-profile into the Plan.
// Container side: builds and loads the filter with libseccomp just before the agent is exec'd.
#include "profile.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <stdexcept>

namespace {

namespace json = boost::json;
namespace sdk = rustyolo::sdk;

class Seccomp : public sdk::Plugin, public sdk::SyscallHook {
public:
    using sdk::Plugin::Plugin;

    json::value prepare(const json::object &request) override {
        try {
            return rustyolo::seccomp::prepare(request);
        } catch (const std::invalid_argument &e) {
            throw sdk::InvalidInput(e.what());
        }
    }

    json::value install(const json::object &) override {
        throw sdk::Unsupported("the seccomp filter is installed by the container side of this plugin");
    }
};

}  // namespace

RUSTYOLO_PLUGIN(Seccomp, "seccomp", "0.1.0", "Syscall policy: a libseccomp filter applied just before exec")
