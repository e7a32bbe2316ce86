// Live changes of the running session's network policy (`rustyolo allow` / `deny`): the control
// requests "allow" and "deny" (docs/control-protocol.md), passed to the firewall plugin's
// network.update hook. The host CLI has normalised the entries with the same plugin's normalize
// hook; the plugin checks them again. Every change — applied, refused or failed — is a "policy"
// audit record naming who asked (the host uid and pid of the `rustyolo` that asked, from its
// control socket's peer credentials), what and when.
#pragma once

#include "core/private_header.hpp"

#include "core/loader/plugin_loader.hpp"
#include "entrypoint/lifeline.hpp"

namespace rustyolo::entrypoint {

// The control handler for `firewall` (the Plan's network plugin). The plugin must outlive every
// call: set_control_handler({}) before it is destroyed.
ControlHandler live_policy_handler(const LoadedPlugin &firewall);

}  // namespace rustyolo::entrypoint
