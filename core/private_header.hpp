// Included first by every header of core/ and entrypoint/: those headers are private to the
// rustyolo host and its entrypoint. Plugins (built-in and third-party) build from the SDK
// (<rustyolo/sdk/...>, <rustyolo/abi/...>) alone; the build defines RUSTYOLO_PLUGIN_BUILD for every
// target under plugins/ and agents/, so an include of core there stops the build here.
#pragma once

#ifdef RUSTYOLO_PLUGIN_BUILD
#error "core/ and entrypoint/ headers are private to the rustyolo host: a plugin builds from the SDK (<rustyolo/sdk/...>) only; see docs/plugin-guide.md"
#endif
