#include "plugins/resources/resource_parse.hpp"

#include <rustyolo/sdk/text.hpp>

#include <rustyolo/sdk/plugin.hpp>

#include <algorithm>
#include <limits>
#include <utility>

namespace rustyolo::resources {
namespace {

std::string quoted(std::string_view value) { return text::quoted(value, 40, true); }

constexpr std::string_view memory_example = "use a size like 4g or 512m, or \"unlimited\"";
constexpr std::string_view cpus_example = "use a number of CPUs like 2 or 0.5, or \"unlimited\"";
constexpr std::string_view pids_example = "use a process count like 256, or \"unlimited\"";
constexpr std::string_view scratch_example = "use a size like 1g or 512m";


char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Builds and throws the one error format: what, the value, why, and a valid example.
class Field {
public:
    Field(std::string_view flag, std::string_view value, std::string_view example)
        : flag_(flag), value_(value), example_(example) {}

    [[noreturn]] void fail(std::string_view why) const {
        throw sdk::InvalidInput(std::string(flag_) + " " + quoted(value_) + ": " + std::string(why) + "; " +
                                std::string(example_));
    }
    std::string_view value() const { return value_; }

private:
    std::string_view flag_;
    std::string_view value_;
    std::string_view example_;
};

// A non-negative decimal number at the start of a value: integer part and up to 3 decimals.
struct Decimal {
    std::uint64_t integer = 0;
    std::uint64_t fraction = 0;  // the decimals as an integer: "1.25" -> 25
    int fraction_digits = 0;     // 0 when there is no '.'
    std::size_t end = 0;         // index of the first character after the number
};

// The checks every value gets before its number is read. Returns false for "unlimited".
bool precheck(const Field &field) {
    std::string_view value = field.value();
    if (value.size() > max_value_length)
        field.fail("the value is too long (at most " + std::to_string(max_value_length) + " characters)");
    if (value.empty())
        field.fail("the value is empty");
    for (char c : value) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f)
            field.fail("the value must not contain spaces or control characters");
    }
    if (equals_ignore_case(value, "unlimited"))
        return false;
    if (value.front() == '-')
        field.fail("negative values are not allowed");
    if (value.front() == '+')
        field.fail("a sign is not allowed");
    if (value.front() == '.')
        field.fail("write a digit before the decimal point, e.g. 0.5");
    if (!is_digit(value.front())) {
        if (equals_ignore_case(value, "nan") || equals_ignore_case(value, "inf") ||
            equals_ignore_case(value, "infinity"))
            field.fail("the value is not a finite number");
        field.fail("expected a number");
    }
    return true;
}

Decimal read_decimal(const Field &field) {
    std::string_view value = field.value();
    Decimal number;
    std::size_t i = 0;
    for (; i < value.size() && is_digit(value[i]); ++i) {
        if (__builtin_mul_overflow(number.integer, 10u, &number.integer) ||
            __builtin_add_overflow(number.integer, static_cast<unsigned>(value[i] - '0'), &number.integer))
            field.fail("the value is too large");
    }
    if (i < value.size() && value[i] == '.') {
        ++i;
        std::size_t first = i;
        for (; i < value.size() && is_digit(value[i]); ++i) {
            if (i - first >= 3)
                field.fail("at most 3 decimals are allowed");
            number.fraction = number.fraction * 10 + static_cast<unsigned>(value[i] - '0');
        }
        if (i == first)
            field.fail("a decimal point needs digits after it, e.g. 1.5");
        number.fraction_digits = static_cast<int>(i - first);
    }
    number.end = i;
    return number;
}

// Explains characters left after the part of the value that was understood.
[[noreturn]] void fail_trailing(const Field &field, std::size_t understood) {
    std::string_view value = field.value();
    std::string_view rest = value.substr(understood);
    if ((rest.front() == 'e' || rest.front() == 'E') && rest.size() > 1 &&
        (is_digit(rest[1]) || rest[1] == '+' || rest[1] == '-'))
        field.fail("exponent notation is not supported");
    if (value.substr(0, understood) == "0" && (rest.front() == 'x' || rest.front() == 'X'))
        field.fail("hexadecimal is not supported");
    field.fail("unexpected characters after " + quoted(value.substr(0, understood)));
}

std::uint64_t pow10(int digits) {
    std::uint64_t result = 1;
    for (int i = 0; i < digits; ++i)
        result *= 10;
    return result;
}

}  // namespace

namespace {

// A size with an optional binary unit (k, m, g, t) and "b"; 0 and overflows are refused.
std::int64_t read_bytes(const Field &field) {
    std::string_view value = field.value();
    Decimal number = read_decimal(field);
    std::size_t i = number.end;
    std::uint64_t multiplier = 1;
    if (i < value.size()) {
        switch (lower(value[i])) {
        case 'k': multiplier = std::uint64_t{1} << 10; ++i; break;
        case 'm': multiplier = std::uint64_t{1} << 20; ++i; break;
        case 'g': multiplier = std::uint64_t{1} << 30; ++i; break;
        case 't': multiplier = std::uint64_t{1} << 40; ++i; break;
        default: break;
        }
    }
    if (i < value.size() && lower(value[i]) == 'b')
        ++i;
    if (i < value.size())
        fail_trailing(field, i);
    if (number.fraction_digits > 0 && multiplier == 1)
        field.fail("a fraction needs a unit (k, m, g or t), e.g. 1.5g");

    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(number.integer, multiplier, &bytes) ||
        __builtin_add_overflow(bytes, number.fraction * multiplier / pow10(number.fraction_digits), &bytes) ||
        bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        field.fail("the value is too large");
    return static_cast<std::int64_t>(bytes);
}

}  // namespace

Limit<std::int64_t> parse_memory(std::string_view value, std::string_view flag) {
    Field field(flag, value, memory_example);
    if (!precheck(field))
        return {std::nullopt, std::string(flag) +
                                  " unlimited: no memory limit, the agent can use all of the host's memory"};
    const std::int64_t bytes = read_bytes(field);
    if (bytes == 0)
        field.fail("0 is ambiguous (Docker reads it as no limit)");
    if (bytes < min_memory_bytes)
        field.fail("the value is below Docker's minimum of 6m (" + std::to_string(min_memory_bytes) + " bytes)");
    return {bytes, {}};
}

Limit<double> parse_cpus(std::string_view value, std::string_view flag) {
    Field field(flag, value, cpus_example);
    if (!precheck(field))
        return {std::nullopt,
                std::string(flag) + " unlimited: no CPU limit, the agent can keep every host CPU busy"};
    Decimal number = read_decimal(field);
    if (number.end < value.size())
        fail_trailing(field, number.end);
    if (number.integer > static_cast<std::uint64_t>(max_cpus))
        field.fail("more than 1024 CPUs is not a limit");
    std::uint64_t milli = number.integer * 1000 + number.fraction * pow10(3 - number.fraction_digits);
    if (milli == 0)
        field.fail("0 is ambiguous (Docker reads it as no limit)");
    if (milli < 10)
        field.fail("the value is below Docker's minimum of 0.01");
    if (milli > 1024 * 1000)
        field.fail("more than 1024 CPUs is not a limit");
    return {static_cast<double>(milli) / 1000.0, {}};
}

Limit<std::int64_t> parse_pids(std::string_view value, std::string_view flag) {
    Field field(flag, value, pids_example);
    if (!precheck(field))
        return {std::nullopt, std::string(flag) +
                                  " unlimited: no process limit, a fork bomb in the sandbox can exhaust the "
                                  "host's process table"};
    Decimal number = read_decimal(field);
    if (number.fraction_digits > 0)
        field.fail("a process count must be a whole number");
    if (number.end < value.size())
        fail_trailing(field, number.end);
    if (number.integer == 0)
        field.fail("0 is ambiguous (Docker reads it as no limit)");
    if (number.integer < static_cast<std::uint64_t>(min_pids))
        field.fail("fewer than 16 processes is too few for anything to start (the supervisor, the DNS "
                   "filter and the agent's first processes need them)");
    if (number.integer > static_cast<std::uint64_t>(max_pids))
        field.fail("the value is above the kernel's maximum of 4194304 processes");
    return {static_cast<std::int64_t>(number.integer), {}};
}

std::int64_t parse_scratch_size(std::string_view value, std::string_view flag) {
    Field field(flag, value, scratch_example);
    if (!precheck(field))
        field.fail("a tmpfs needs a size (without one it may take half of the host's memory)");
    const std::int64_t bytes = read_bytes(field);
    if (bytes == 0)
        field.fail("a tmpfs of size 0 has no size limit");
    if (bytes < min_scratch_bytes)
        field.fail("the value is below the minimum of 1m (" + std::to_string(min_scratch_bytes) + " bytes)");
    return bytes;
}

namespace {

// "1073741824 bytes (1g)": exact, and readable when it is a whole number of a unit.
std::string describe_bytes(std::int64_t bytes) {
    std::string out = std::to_string(bytes) + " bytes";
    for (auto [unit, size] : {std::pair{'t', std::int64_t{1} << 40}, std::pair{'g', std::int64_t{1} << 30},
                              std::pair{'m', std::int64_t{1} << 20}, std::pair{'k', std::int64_t{1} << 10}})
        if (bytes >= size && bytes % size == 0)
            return out + " (" + std::to_string(bytes / size) + unit + ")";
    return out;
}

}  // namespace

Scratch resolve_scratch(std::optional<std::int64_t> memory_bytes, const std::optional<std::string> &tmp_size,
                        const std::optional<std::string> &home_size) {
    Scratch scratch;
    const std::int64_t quarter = memory_bytes ? *memory_bytes / 4 : unlimited_memory_scratch_bytes;
    scratch.tmp_bytes = tmp_size ? parse_scratch_size(*tmp_size, "--tmp-size") : quarter;
    scratch.home_bytes = home_size ? parse_scratch_size(*home_size, "--home-size") : quarter;
    scratch.shm_bytes = memory_bytes ? std::min(default_shm_bytes, *memory_bytes / 16) : default_shm_bytes;
    if (!memory_bytes)
        return scratch;
    const std::int64_t sum = scratch.tmp_bytes + scratch.home_bytes + scratch.shm_bytes;  // each < 2^63 / 4
    if (sum < *memory_bytes)
        return scratch;
    auto given = [](const std::optional<std::string> &text) { return text ? " \"" + *text + "\"" : " (default)"; };
    throw sdk::InvalidInput(
        "--tmp-size" + given(tmp_size) + " = " + describe_bytes(scratch.tmp_bytes) + " plus --home-size" +
        given(home_size) + " = " + describe_bytes(scratch.home_bytes) + " plus /dev/shm " +
        describe_bytes(scratch.shm_bytes) + " is " + describe_bytes(sum) + ", not below --memory " +
        describe_bytes(*memory_bytes) +
        ": tmpfs is charged to the memory limit, so a full /tmp and home would leave the agent no memory; "
        "lower --tmp-size or --home-size, or raise --memory");
}

}  // namespace rustyolo::resources
