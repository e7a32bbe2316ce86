// Where rustyolo finds its own files: plugin directories (relative to the executable, so the build
// tree and an installed prefix work the same way), and the user's per-session runtime directory.
#pragma once

#include "core/private_header.hpp"

#include <functional>
#include <string>
#include <vector>

namespace rustyolo {

using GetEnv = std::function<const char *(const char *)>;

// Directory of the running executable (/proc/self/exe).
std::string executable_dir();
// <exe>/../lib/rustyolo/plugins: the built-in plugins.
std::string builtin_plugin_dir();
// $XDG_DATA_HOME/rustyolo/plugins (default ~/.local/share/rustyolo/plugins): the user's plugins.
std::string user_plugin_dir(const GetEnv &getenv_fn);
// The user's home directory ($HOME, else the passwd entry).
std::string home_dir(const GetEnv &getenv_fn);
// Expands a leading "~" or "~/".
std::string expand_tilde(const std::string &path, const std::string &home);

// Resolves a --plugin argument: a bare name is looked up as <name>.so in the trusted plugin dirs
// (never in the current directory); anything with a '/' is made absolute against `cwd`.
std::string resolve_plugin_argument(const std::string &argument, const std::string &cwd,
                                    const std::vector<std::string> &trusted_dirs);

// Creates `dir` (mode 0700) if needed and checks that it is a private directory of ours.
void make_private_dir(const std::string &dir);

// /tmp/rustyolo-<uid>, created private if needed (fail-closed: refused when it exists and is not
// a private directory of ours). The same for a user whatever the environment says: the placeholder
// registry lives there, and every session of the user on a project must find it.
std::string uid_base_dir();

// $XDG_RUNTIME_DIR/rustyolo (when XDG_RUNTIME_DIR is absolute and writable) or /tmp/rustyolo-<uid>,
// created private if needed: the parent of the session directories and of the control sockets.
std::string runtime_base_dir(const GetEnv &getenv_fn);

// A private (0700) directory for one session's runtime files (the Plan, the audit socket), under
// $XDG_RUNTIME_DIR/rustyolo or /tmp/rustyolo-<uid>. Removed by the caller. With `reuse`, an
// existing directory of that name (owned by us, private) is used as it is (for dry runs).
std::string make_session_dir(const GetEnv &getenv_fn, const std::string &session, bool reuse = false);
// Where make_session_dir() puts that session's directory (the base is created, the directory not).
std::string session_dir_path(const GetEnv &getenv_fn, const std::string &session);

}  // namespace rustyolo
