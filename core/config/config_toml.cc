// TOML → ConfigLayer. Every table and key is listed once, in kTables below, with how its value is
// read; anything else in the file is an error naming the file, the line and the key.
#include "core/config/config_toml.hpp"

#include <rustyolo/sdk/text.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <toml++/toml.h>

#include "core/error.hpp"

namespace rustyolo {

namespace {

// A config file larger than this is not a config file (and the project's copy is agent-writable).
constexpr std::streamoff kMaxConfigBytes = 1 << 20;

// Key names come from a file the agent may have written: never echo control characters as-is.
using text::printable;
using text::quoted;

std::string type_name(toml::node_type type) {
    switch (type) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
    }
    return "nothing";
}

// One value being read: where it is and what it is, for error messages.
struct Field {
    const std::string &origin;
    std::string_view table;
    std::string_view key;
    const toml::node &node;

    [[noreturn]] void fail(const std::string &message) const {
        throw UsageError(origin + ":" + std::to_string(node.source().begin.line) + ": '" +
                         printable(key) + "' in [" + std::string(table) + "] " + message);
    }
    [[noreturn]] void wrong_type(std::string_view expected) const {
        fail("must be " + std::string(expected) + ", not " + type_name(node.type()));
    }
};

std::string read_string(const Field &field) {
    if (const auto *s = field.node.as_string()) return s->get();
    field.wrong_type("a string");
}

std::vector<std::string> read_string_array(const Field &field) {
    const auto *array = field.node.as_array();
    if (array == nullptr) field.wrong_type("an array of strings");
    std::vector<std::string> out;
    std::size_t index = 0;
    for (const auto &element : *array) {
        ++index;
        const auto *s = element.as_string();
        if (s == nullptr) {
            field.fail("must be an array of strings, but element " + std::to_string(index) +
                       " is " + type_name(element.type()));
        }
        out.push_back(s->get());
    }
    return out;
}

// The seed's space-separated list ("github.com pypi.org"), or an array of strings.
std::vector<std::string> read_word_list(const Field &field) {
    if (field.node.is_array()) return read_string_array(field);
    if (const auto *s = field.node.as_string()) {
        std::istringstream words(s->get());
        return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    }
    field.wrong_type("a space-separated string or an array of strings");
}

// A string, or a TOML number turned into the string the user would have written.
std::string read_number_text(const Field &field) {
    if (const auto *s = field.node.as_string()) return s->get();
    if (const auto *i = field.node.as_integer()) return std::to_string(i->get());
    if (const auto *f = field.node.as_floating_point()) {
        char buffer[64];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, f->get());
        return std::string(buffer, result.ptr);
    }
    field.wrong_type("a string or a number");
}

bool read_bool(const Field &field) {
    if (const auto *b = field.node.as_boolean()) return b->get();
    field.wrong_type("a boolean (true or false)");
}

struct KeySpec {
    std::string_view name;
    std::function<void(ConfigLayer &, const Field &)> read;
};

struct TableSpec {
    std::string_view name;
    std::vector<KeySpec> keys;
};

template <typename Member>
KeySpec string_key(std::string_view name, Member member) {
    return {name, [member](ConfigLayer &layer, const Field &field) { layer.*member = read_string(field); }};
}

template <typename Member>
KeySpec number_key(std::string_view name, Member member) {
    return {name, [member](ConfigLayer &layer, const Field &field) { layer.*member = read_number_text(field); }};
}

template <typename Member>
KeySpec word_list_key(std::string_view name, Member member) {
    return {name, [member](ConfigLayer &layer, const Field &field) { layer.*member = read_word_list(field); }};
}

template <typename Member>
KeySpec string_array_key(std::string_view name, Member member) {
    return {name, [member](ConfigLayer &layer, const Field &field) {
                auto values = read_string_array(field);
                (layer.*member).insert((layer.*member).end(), values.begin(), values.end());
            }};
}

const std::vector<TableSpec> &tables() {
    static const std::vector<TableSpec> kTables = {
        {"default",
         {word_list_key("allow_domains", &ConfigLayer::allow_domains),
          string_array_key("volumes", &ConfigLayer::volumes),
          string_array_key("env", &ConfigLayer::env),
          string_key("auth_home", &ConfigLayer::auth_home),
          string_key("image", &ConfigLayer::image),
          string_key("agent", &ConfigLayer::agent)}},
        {"resources",
         {string_key("memory", &ConfigLayer::memory),
          number_key("cpus", &ConfigLayer::cpus),
          number_key("pids_limit", &ConfigLayer::pids_limit),
          string_key("tmp_size", &ConfigLayer::tmp_size),
          string_key("home_size", &ConfigLayer::home_size)}},
        {"security",
         {string_key("seccomp_profile", &ConfigLayer::seccomp_profile),
          word_list_key("dns_servers", &ConfigLayer::dns_servers),
          string_key("audit_log", &ConfigLayer::audit_log),
          string_key("inject_message", &ConfigLayer::inject_message),
          {"audit_sinks",
           [](ConfigLayer &layer, const Field &field) {
               const std::string where = field.origin + ":" + std::to_string(field.node.source().begin.line) +
                                         ": [security] audit_sinks";
               layer.audit_sinks = normalize_audit_sinks(read_word_list(field), where);
           }},
          string_key("audit_syslog_socket", &ConfigLayer::audit_syslog_socket),
          string_key("audit_dir", &ConfigLayer::audit_dir),
          {"audit_max_bytes",
           [](ConfigLayer &layer, const Field &field) {
               const std::string where = field.origin + ":" + std::to_string(field.node.source().begin.line) +
                                         ": [security] audit_max_bytes";
               layer.audit_max_bytes = parse_audit_max_bytes(read_number_text(field), where);
           }}}},
        {"network",
         {string_key("network", &ConfigLayer::network),
          {"allow_lan", [](ConfigLayer &layer, const Field &field) { layer.allow_lan = read_bool(field); }},
          string_key("firewall", &ConfigLayer::firewall)}},
        {"runtime",
         {string_key("runtime", &ConfigLayer::runtime),
          string_array_key("plugins", &ConfigLayer::plugins)}},
        {"image",
         {{"packages",
           [](ConfigLayer &layer, const Field &field) {
               for (const auto &name : read_string_array(field)) {
                   if (!text::is_debian_package_name(name))
                       field.fail("names " + quoted(name) +
                                  ", which is not a Debian package name (lowercase letters, digits and "
                                  "+ - . only, starting with a letter or digit, at least two characters); "
                                  "give the name `apt-cache search` shows, without a version");
                   layer.image_packages.push_back(name);
               }
           }}}},
    };
    return kTables;
}

template <typename Range, typename Name>
std::string join_names(const Range &range, Name name) {
    std::string out;
    for (const auto &item : range) {
        if (!out.empty()) out += ", ";
        out += name(item);
    }
    return out;
}

std::string known_tables() {
    return join_names(tables(), [](const TableSpec &t) { return "[" + std::string(t.name) + "]"; });
}

std::string line_prefix(const std::string &origin, const toml::source_region &where) {
    return origin + ":" + std::to_string(where.begin.line) + ": ";
}

const TableSpec *find_table(std::string_view name) {
    for (const auto &spec : tables()) {
        if (spec.name == name) return &spec;
    }
    return nullptr;
}

void read_table(ConfigLayer &layer, const TableSpec &spec, const toml::table &table,
                const std::string &origin) {
    for (const auto &[key, node] : table) {
        const KeySpec *known = nullptr;
        for (const auto &candidate : spec.keys) {
            if (candidate.name == key.str()) known = &candidate;
        }
        if (known == nullptr) {
            throw UsageError(line_prefix(origin, key.source()) + "unknown key '" + printable(key.str()) +
                             "' in [" + std::string(spec.name) + "] (known: " +
                             join_names(spec.keys, [](const KeySpec &k) { return std::string(k.name); }) +
                             ")");
        }
        known->read(layer, Field{origin, spec.name, key.str(), node});
    }
}

}  // namespace

ConfigLayer parse_config_text(std::string_view text, const std::string &origin, Source source) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error &error) {
        const auto &where = error.source().begin;
        throw UsageError(origin + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                         ": TOML syntax error: " + std::string(error.description()));
    }

    ConfigLayer layer;
    layer.source = source;
    layer.origin = origin;
    for (const auto &[name, node] : root) {
        const TableSpec *spec = find_table(name.str());
        if (spec == nullptr) {
            if (node.is_table()) {
                throw UsageError(line_prefix(origin, name.source()) + "unknown table [" +
                                 printable(name.str()) + "] (known: " + known_tables() + ")");
            }
            throw UsageError(line_prefix(origin, name.source()) + "key '" + printable(name.str()) +
                             "' must be inside one of the tables " + known_tables());
        }
        const auto *table = node.as_table();
        if (table == nullptr) {
            throw UsageError(line_prefix(origin, name.source()) + "'" + std::string(spec->name) +
                             "' must be a table ([" + std::string(spec->name) + "]), not " +
                             type_name(node.type()));
        }
        read_table(layer, *spec, *table, origin);
    }
    return layer;
}

ConfigLayer load_config_file(const std::string &path, Source source) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw Error("cannot read config file " + path + ": " + std::strerror(errno));
    }
    std::string text;
    char buffer[8192];
    while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(file.gcount()));
        if (static_cast<std::streamoff>(text.size()) > kMaxConfigBytes) {
            throw UsageError(path + ": config file is larger than " + std::to_string(kMaxConfigBytes) +
                             " bytes; this is not a rustyolo config");
        }
    }
    if (file.bad()) {
        throw Error("cannot read config file " + path + ": " + std::strerror(errno));
    }
    return parse_config_text(text, path, source);
}

}  // namespace rustyolo
