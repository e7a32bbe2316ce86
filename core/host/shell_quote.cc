#include "core/host/shell_quote.hpp"

#include <cctype>

namespace rustyolo {

std::string shell_quote(const std::string &word) {
    if (word.empty())
        return "''";
    bool plain = true;
    for (unsigned char c : word)
        if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == ',' ||
              c == '=' || c == '@' || c == '+' || c == '%'))
            plain = false;
    if (plain)
        return word;
    std::string out = "'";
    for (char c : word) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string shell_join(const std::vector<std::string> &argv) {
    std::string out;
    for (const auto &word : argv)
        out += (out.empty() ? "" : " ") + shell_quote(word);
    return out;
}

}  // namespace rustyolo
