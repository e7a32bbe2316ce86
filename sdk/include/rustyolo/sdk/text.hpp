// Small text helpers shared by the core and the built-in plugins (internal, header-only; third-party
// plugins have no use for them and the SDK does not ship them).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::text {

// A user-supplied value as it appears in a message: in double quotes, `"` and `\` escaped, control
// bytes (and, with `escape_non_ascii`, bytes ≥ 0x7f) as \xNN, cut after `max_shown` bytes with "...".
// Values often come from agent-writable files: nothing in them can drive the user's terminal.
inline std::string quoted(std::string_view value, std::size_t max_shown = std::numeric_limits<std::size_t>::max(),
                          bool escape_non_ascii = false) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < value.size() && i < max_shown; ++i) {
        const auto byte = static_cast<unsigned char>(value[i]);
        // U+0080..U+009F (UTF-8 c2 80..c2 9f) are the C1 controls: some terminals act on them
        // (U+009B is CSI), so they are shown as escapes like the C0 ones.
        const bool c1 = byte == 0xc2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(value[i + 1]) <= 0x9f;
        if (c1 && !escape_non_ascii && i + 1 < max_shown) {
            const auto next = static_cast<unsigned char>(value[i + 1]);
            out += "\\xc2\\x";
            out += hex[next >> 4];
            out += hex[next & 0xf];
            ++i;
        } else if (byte < 0x20 || byte == 0x7f || (escape_non_ascii && byte > 0x7f)) {
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else if (value[i] == '"' || value[i] == '\\') {
            out += '\\';
            out += value[i];
        } else {
            out += value[i];
        }
    }
    if (value.size() > max_shown)
        out += "...";
    return out + "\"";
}

// The same without the quotes and without escaping quotes: for names inside a sentence.
inline std::string printable(std::string_view value) {
    std::string q = quoted(value);
    std::string out;
    for (std::size_t i = 1; i + 1 < q.size(); ++i) {
        if (q[i] == '\\' && i + 2 < q.size() && (q[i + 1] == '"' || q[i + 1] == '\\'))
            ++i;
        out += q[i];
    }
    return out;
}

// The non-empty components of a slash-separated path ("//a/./b/" → "a", ".", "b").
inline std::vector<std::string> path_components(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos)
            end = path.size();
        if (end > start)
            parts.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

inline std::string join(const std::vector<std::string> &items, std::string_view separator = ", ") {
    std::string out;
    for (const auto &item : items) {
        if (!out.empty())
            out += separator;
        out += item;
    }
    return out;
}

// JSON text (as Boost.JSON serialises it) with the C1 controls U+0080..U+009F written as \\u00XX
// escapes, so that JSON output shown on a terminal cannot carry them raw. The JSON value is the same.
inline std::string json_without_c1(std::string_view json_text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(json_text.size());
    for (std::size_t i = 0; i < json_text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(json_text[i]);
        const auto next = i + 1 < json_text.size() ? static_cast<unsigned char>(json_text[i + 1]) : 0;
        if (byte == 0xc2 && next >= 0x80 && next <= 0x9f) {
            out += "\\u00";
            out += hex[next >> 4];
            out += hex[next & 0xf];
            ++i;
        } else {
            out += json_text[i];
        }
    }
    return out;
}

// Debian policy's package-name syntax: at least two characters of a-z, 0-9, '+', '-' and '.',
// the first a letter or digit.
inline bool is_debian_package_name(std::string_view name) {
    if (name.size() < 2)
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '+' && c != '-' && c != '.')))
            return false;
    }
    return true;
}

}  // namespace rustyolo::text
