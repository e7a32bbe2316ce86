// A checked reader for JSON objects: every typed field access either returns a value of the asked
// type or throws JsonError naming the document and the JSON path of the bad field, e.g.
//     plan: /user/uid: expected an unsigned integer
//     plugin "net-nftables" normalize result: /entries/2/ports: expected port numbers 1-65535
// The host reads the Plan and every plugin answer with it; plugins can use it for requests.
// Header-only, C++17.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rustyolo::sdk {

// A JSON document had a field of the wrong type, a missing field or a value out of range. The
// message is "<document>: <path>: <what>".
class JsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class JsonReader {
public:
    // `document` names what is read ("plan", "plugin \"x\" result"); `path` is the JSON path of
    // `value` inside it ("" for the root).
    // The reader keeps a pointer to the object it reads: the value must outlive the reader.
    JsonReader(const boost::json::value &value, std::string document, std::string path = "")
        : document_(std::move(document)), path_(std::move(path)) {
        if (!value.is_object())
            fail(path_, "expected an object");
        object_ = &value.as_object();
    }
    JsonReader(const boost::json::object &object, std::string document, std::string path = "")
        : document_(std::move(document)), path_(std::move(path)), object_(&object) {}
    // A temporary (also the value that a json::object argument would convert to) is gone before
    // the reader is used: refused at compile time.
    JsonReader(boost::json::value &&, std::string, std::string = "") = delete;
    JsonReader(boost::json::object &&, std::string, std::string = "") = delete;

    [[noreturn]] void fail(const std::string &path, const std::string &what) const {
        throw JsonError(document_ + ": " + (path.empty() ? std::string("/") : path) + ": " + what);
    }
    [[noreturn]] void fail_at(std::string_view key, const std::string &what) const { fail(at(key), what); }

    const boost::json::object &object() const { return *object_; }
    const std::string &path() const { return path_; }
    const std::string &document() const { return document_; }
    std::string at(std::string_view key) const { return path_ + "/" + std::string(key); }

    // The field, or nullptr when it is absent or null.
    const boost::json::value *find(std::string_view key) const {
        auto it = object_->find(key);
        return it == object_->end() || it->value().is_null() ? nullptr : &it->value();
    }
    const boost::json::value &need(std::string_view key) const {
        const boost::json::value *v = find(key);
        if (!v)
            fail(at(key), "missing");
        return *v;
    }

    std::string str(std::string_view key) const {
        const boost::json::value &v = need(key);
        if (!v.is_string())
            fail(at(key), "expected a string");
        return std::string(v.as_string());
    }
    std::string str_or(std::string_view key, std::string fallback) const {
        return find(key) ? str(key) : fallback;
    }
    std::optional<std::string> optional_str(std::string_view key) const {
        if (!find(key))
            return std::nullopt;
        return str(key);
    }
    bool boolean(std::string_view key) const {
        const boost::json::value &v = need(key);
        if (!v.is_bool())
            fail(at(key), "expected true or false");
        return v.as_bool();
    }
    bool boolean_or(std::string_view key, bool fallback) const {
        return find(key) ? boolean(key) : fallback;
    }
    std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const {
        const boost::json::value &v = need(key);
        std::int64_t n = 0;
        if (v.is_int64())
            n = v.as_int64();
        else if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(max))
            n = static_cast<std::int64_t>(v.as_uint64());
        else
            fail(at(key), "expected an integer");
        if (n < min || n > max)
            fail(at(key), "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
        return n;
    }
    std::optional<std::int64_t> optional_integer(std::string_view key, std::int64_t min, std::int64_t max) const {
        if (!find(key))
            return std::nullopt;
        return integer(key, min, max);
    }
    double number(std::string_view key) const {
        const boost::json::value &v = need(key);
        if (!v.is_number())
            fail(at(key), "expected a number");
        return v.to_number<double>();
    }
    std::optional<double> optional_number(std::string_view key) const {
        if (!find(key))
            return std::nullopt;
        return number(key);
    }
    // An array of strings; absent means empty.
    std::vector<std::string> strings(std::string_view key) const {
        std::vector<std::string> out;
        const boost::json::value *v = find(key);
        if (!v)
            return out;
        if (!v->is_array())
            fail(at(key), "expected an array of strings");
        std::size_t i = 0;
        for (const auto &item : v->as_array()) {
            if (!item.is_string())
                fail(at(key) + "/" + std::to_string(i), "expected a string");
            out.emplace_back(item.as_string());
            ++i;
        }
        return out;
    }
    std::vector<std::uint16_t> ports(std::string_view key) const {
        const boost::json::value &v = need(key);
        if (!v.is_array() || v.as_array().empty())
            fail(at(key), "expected a non-empty array of port numbers");
        std::vector<std::uint16_t> out;
        for (const auto &p : v.as_array()) {
            if (!p.is_int64() || p.as_int64() < 1 || p.as_int64() > 65535)
                fail(at(key), "expected port numbers 1-65535");
            out.push_back(static_cast<std::uint16_t>(p.as_int64()));
        }
        return out;
    }
    // A string field that must be one of `allowed`.
    std::string one_of(std::string_view key, std::initializer_list<std::string_view> allowed) const {
        std::string value = str(key);
        expect_one_of(key, value, allowed);
        return value;
    }
    void expect_one_of(std::string_view key, const std::string &value,
                       std::initializer_list<std::string_view> allowed) const {
        for (auto a : allowed)
            if (value == a)
                return;
        std::string list;
        for (auto a : allowed)
            list += (list.empty() ? "" : ", ") + std::string(a);
        fail(at(key), "\"" + value + "\" is not one of " + list);
    }
    // The reader of an object field.
    JsonReader child(std::string_view key) const { return JsonReader(need(key), document_, at(key)); }
    // Calls fn(JsonReader) for each object of an array field; absent means none.
    template <class Fn>
    void each(std::string_view key, Fn &&fn) const {
        const boost::json::value *v = find(key);
        if (!v)
            return;
        if (!v->is_array())
            fail(at(key), "expected an array");
        std::size_t i = 0;
        for (const auto &item : v->as_array())
            fn(JsonReader(item, document_, at(key) + "/" + std::to_string(i++)));
    }

private:
    std::string document_;
    std::string path_;
    const boost::json::object *object_ = nullptr;
};

// Parses `text` as a JSON object and returns it; JsonError names `document` when it is not.
inline boost::json::value parse_object_text(std::string_view text, const std::string &document) {
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec)
        throw JsonError(document + ": not valid JSON: " + ec.message());
    if (!value.is_object())
        throw JsonError(document + ": /: expected an object");
    return value;
}

}  // namespace rustyolo::sdk
