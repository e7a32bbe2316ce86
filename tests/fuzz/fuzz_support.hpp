// What the fuzz targets share: the input as text or lines, and a check that makes libFuzzer report
// a broken property as a crash (with the input saved as an artifact).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace rustyolo::fuzz {

inline std::string_view text(const std::uint8_t *data, std::size_t size) {
    return {reinterpret_cast<const char *>(data), size};
}

// The input split at '\n' (the last line may be empty).
inline std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        std::size_t end = text.find('\n', start);
        out.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos)
            return out;
        start = end + 1;
    }
}

// A property of the code under test that must hold: abort (a crash for libFuzzer) when it does not.
inline void check(bool holds, std::string_view what, std::string_view detail = {}) {
    if (holds)
        return;
    std::fprintf(stderr, "fuzz property violated: %.*s\n  %.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

}  // namespace rustyolo::fuzz
