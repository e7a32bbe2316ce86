// `rustyolo allow --save user|project`: the entries also go into a config file, so that the next
// session starts with them. The file is edited in place as text — only the [default] allow_domains
// value changes; comments, order and every other key stay as they are — and the result is parsed
// again and checked to differ from the old content in exactly that value before it replaces the
// file (atomically: a temporary file in the same directory, then rename). A file this cannot edit
// safely (e.g. allow_domains written as a dotted key) is left alone, with an error saying what to
// add by hand.
#pragma once

#include "core/private_header.hpp"

#include "core/cli/context.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::cli {

// `text` (a config file's content, "" when there is none) with `entries` added to
// [default] allow_domains (those already there are not repeated); nullopt when nothing changes.
// Throws UsageError when the file cannot be parsed or edited safely.
std::optional<std::string> with_allow_domains(std::string_view text, const std::vector<std::string> &entries,
                                              const std::string &origin);

// The user's config file ($XDG_CONFIG_HOME/rustyolo/config.toml).
void save_to_user_config(Context &context, const std::vector<std::string> &entries);

// The project's .rustyolo.toml in `project`: shows the change, asks (a terminal is required), writes
// it, and trusts the new content (`rustyolo trust`).
// What trusting `content` as the project file `path` (its directory canonical) would accept: one
// sentence per thing it widens compared with the defaults and the user's file (empty: it only
// narrows). Throws UsageError when the content does not parse or names a path into the project.
std::vector<std::string> project_file_widening(const Context &context, const std::string &path,
                                               const std::string &content);

void save_to_project_config(Context &context, const std::string &project, const std::vector<std::string> &entries);

}  // namespace rustyolo::cli
