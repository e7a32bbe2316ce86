#include "plan.hpp"

#include <limits>
#include <stdexcept>

namespace rustyolo {

namespace json = boost::json;

namespace {

// Reads typed fields of a JSON object, naming the JSON path in every error.
class Reader {
public:
    Reader(const json::value &value, std::string path) : path_(std::move(path)) {
        if (!value.is_object())
            fail(path_, "expected an object");
        object_ = &value.as_object();
    }

    [[noreturn]] static void fail(const std::string &path, const std::string &what) {
        throw std::runtime_error("plan: " + (path.empty() ? std::string("/") : path) + ": " + what);
    }

    const json::value *find(std::string_view key) const {
        auto it = object_->find(key);
        return it == object_->end() || it->value().is_null() ? nullptr : &it->value();
    }
    const json::value &need(std::string_view key) const {
        const json::value *v = find(key);
        if (!v)
            fail(at(key), "missing");
        return *v;
    }
    std::string at(std::string_view key) const { return path_ + "/" + std::string(key); }

    std::string str(std::string_view key) const {
        const json::value &v = need(key);
        if (!v.is_string())
            fail(at(key), "expected a string");
        return std::string(v.as_string());
    }
    std::string str_or(std::string_view key, std::string fallback) const {
        return find(key) ? str(key) : fallback;
    }
    bool boolean_or(std::string_view key, bool fallback) const {
        const json::value *v = find(key);
        if (!v)
            return fallback;
        if (!v->is_bool())
            fail(at(key), "expected true or false");
        return v->as_bool();
    }
    std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const {
        const json::value &v = need(key);
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
    std::optional<std::int64_t> optional_integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) const {
        if (!find(key))
            return std::nullopt;
        return integer(key, min, max);
    }
    std::optional<double> optional_number(std::string_view key) const {
        const json::value *v = find(key);
        if (!v)
            return std::nullopt;
        if (!v->is_number())
            fail(at(key), "expected a number");
        return v->to_number<double>();
    }
    std::vector<std::string> strings(std::string_view key) const {
        std::vector<std::string> out;
        const json::value *v = find(key);
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
        const json::value &v = need(key);
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
    // Calls fn(Reader) for each object of an array field.
    template <class Fn>
    void each(std::string_view key, Fn &&fn) const {
        const json::value *v = find(key);
        if (!v)
            return;
        if (!v->is_array())
            fail(at(key), "expected an array");
        std::size_t i = 0;
        for (const auto &item : v->as_array())
            fn(Reader(item, at(key) + "/" + std::to_string(i++)));
    }
    Reader child(std::string_view key) const { return Reader(need(key), at(key)); }
    const std::string &path() const { return path_; }

private:
    const json::object *object_ = nullptr;
    std::string path_;
};

json::array to_array(const std::vector<std::string> &items) {
    json::array out;
    for (const auto &item : items)
        out.emplace_back(item);
    return out;
}

template <class T>
json::value optional_value(const std::optional<T> &v) {
    return v ? json::value(*v) : json::value(nullptr);
}

}  // namespace

json::value to_json(const Plan &plan) {
    json::array env;
    for (const auto &e : plan.env)
        env.push_back(json::object{{"name", e.name}, {"value", optional_value(e.value)}});

    json::array mounts;
    for (const auto &m : plan.mounts)
        mounts.push_back(json::object{{"source", m.source},
                                      {"target", m.target},
                                      {"readonly", m.readonly},
                                      {"origin", m.origin},
                                      {"reason", m.reason},
                                      {"placeholder", m.placeholder},
                                      {"identity", m.identity}});

    json::array allow;
    for (const auto &a : plan.network.allow) {
        json::array ports;
        for (auto p : a.ports)
            ports.emplace_back(static_cast<std::int64_t>(p));
        allow.push_back(json::object{{"kind", a.kind},
                                     {"value", a.value},
                                     {"ports", std::move(ports)},
                                     {"protocol", a.protocol},
                                     {"reason", a.reason}});
    }

    return json::object{
        {"schema", plan.schema},
        {"session", plan.session},
        {"image", plan.image},
        {"runtime", plan.runtime},
        {"project", plan.project},
        {"workdir", plan.workdir},
        {"agent",
         json::object{{"name", plan.agent.name},
                      {"plugin", plan.agent.plugin},
                      {"argv", to_array(plan.agent.argv)}}},
        {"user",
         json::object{{"uid", plan.user.uid},
                      {"gid", plan.user.gid},
                      {"name", plan.user.name},
                      {"home", plan.user.home}}},
        {"env", std::move(env)},
        {"mounts", std::move(mounts)},
        {"resources",
         json::object{{"memory_bytes", optional_value(plan.resources.memory_bytes)},
                      {"cpus", optional_value(plan.resources.cpus)},
                      {"pids", optional_value(plan.resources.pids)}}},
        {"network",
         json::object{{"mode", plan.network.mode},
                      {"firewall", plan.network.firewall},
                      {"allow", std::move(allow)},
                      {"dns_servers", to_array(plan.network.dns_servers)},
                      {"allow_lan", plan.network.allow_lan},
                      {"engine_network", plan.network.engine_network}}},
        {"syscalls",
         json::object{{"mode", plan.syscalls.mode},
                      {"plugin", plan.syscalls.plugin},
                      {"profile", plan.syscalls.profile},
                      {"engine_profile", plan.syscalls.engine_profile}}},
        {"audit", json::object{{"level", plan.audit.level}}},
        {"container_plugins", to_array(plan.container_plugins)},
        {"lifeline", plan.lifeline},
        {"log_level", plan.log_level},
        {"warnings", to_array(plan.warnings)},
        {"created_paths", to_array(plan.created_paths)},
    };
}

namespace {

void expect_one_of(const Reader &r, std::string_view key, const std::string &value,
                   std::initializer_list<std::string_view> allowed) {
    for (auto a : allowed)
        if (value == a)
            return;
    std::string list;
    for (auto a : allowed)
        list += (list.empty() ? "" : ", ") + std::string(a);
    Reader::fail(r.at(key), "\"" + value + "\" is not one of " + list);
}

}  // namespace

Plan plan_from_json(const json::value &value) {
    Reader r(value, "");
    Plan plan;
    plan.schema = static_cast<int>(r.integer("schema", 0, std::numeric_limits<int>::max()));
    if (plan.schema != kPlanSchema)
        Reader::fail("/schema", "schema " + std::to_string(plan.schema) + " is not the supported " +
                                    std::to_string(kPlanSchema) +
                                    "; the CLI and the image are from different releases — rebuild "
                                    "the image with `rustyolo image build`");
    plan.session = r.str("session");
    plan.image = r.str("image");
    plan.runtime = r.str("runtime");
    plan.project = r.str("project");
    plan.workdir = r.str("workdir");

    Reader agent = r.child("agent");
    plan.agent.name = agent.str("name");
    plan.agent.plugin = agent.str_or("plugin", "");
    plan.agent.argv = agent.strings("argv");
    if (plan.agent.argv.empty())
        Reader::fail(agent.at("argv"), "must name at least the executable");

    Reader user = r.child("user");
    plan.user.uid = static_cast<std::uint32_t>(user.integer("uid", 1, 0xfffffffe));
    plan.user.gid = static_cast<std::uint32_t>(user.integer("gid", 1, 0xfffffffe));
    plan.user.name = user.str("name");
    plan.user.home = user.str("home");

    r.each("env", [&](const Reader &e) {
        PlanEnv env{e.str("name"), std::nullopt};
        if (e.find("value"))
            env.value = e.str("value");
        plan.env.push_back(std::move(env));
    });
    r.each("mounts", [&](const Reader &m) {
        plan.mounts.push_back(PlanMount{m.str("source"), m.str("target"), m.boolean_or("readonly", false),
                                        m.str_or("origin", ""), m.str_or("reason", ""),
                                        m.boolean_or("placeholder", false), m.str_or("identity", "")});
    });

    Reader res = r.child("resources");
    plan.resources.memory_bytes =
        res.optional_integer("memory_bytes", 1, std::numeric_limits<std::int64_t>::max());
    plan.resources.cpus = res.optional_number("cpus");
    plan.resources.pids = res.optional_integer("pids", 1, std::numeric_limits<std::int64_t>::max());

    Reader net = r.child("network");
    plan.network.mode = net.str("mode");
    expect_one_of(net, "mode", plan.network.mode, {"filter", "any"});
    plan.network.firewall = net.str("firewall");
    net.each("allow", [&](const Reader &a) {
        PlanEgress egress;
        egress.kind = a.str("kind");
        expect_one_of(a, "kind", egress.kind, {"name", "wildcard", "cidr"});
        egress.value = a.str("value");
        egress.ports = a.ports("ports");
        egress.protocol = a.str_or("protocol", "tcp");
        egress.reason = a.str_or("reason", "");
        plan.network.allow.push_back(std::move(egress));
    });
    plan.network.dns_servers = net.strings("dns_servers");
    plan.network.allow_lan = net.boolean_or("allow_lan", false);
    plan.network.engine_network = net.str_or("engine_network", "");

    Reader sys = r.child("syscalls");
    plan.syscalls.mode = sys.str("mode");
    expect_one_of(sys, "mode", plan.syscalls.mode, {"default", "profile", "none"});
    plan.syscalls.plugin = sys.str_or("plugin", "seccomp");
    if (const auto *profile = value.as_object().at("syscalls").as_object().if_contains("profile"))
        plan.syscalls.profile = *profile;
    if (const auto *engine = value.as_object().at("syscalls").as_object().if_contains("engine_profile")) {
        if (!engine->is_null() && !engine->is_object())
            throw std::runtime_error("plan: /syscalls/engine_profile: expected a Docker-format profile object or null");
        plan.syscalls.engine_profile = *engine;
    }

    plan.audit.level = r.child("audit").str("level");
    expect_one_of(r.child("audit"), "level", plan.audit.level, {"none", "basic", "verbose"});
    plan.container_plugins = r.strings("container_plugins");
    plan.lifeline = r.boolean_or("lifeline", false);
    plan.log_level = r.str_or("log_level", "warn");
    expect_one_of(r, "log_level", plan.log_level, {"warn", "info", "debug", "trace"});
    plan.warnings = r.strings("warnings");
    plan.created_paths = r.strings("created_paths");
    return plan;
}

Plan parse_plan(std::string_view text) {
    json::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec)
        throw std::runtime_error("plan: not valid JSON: " + ec.message());
    return plan_from_json(value);
}

}  // namespace rustyolo
