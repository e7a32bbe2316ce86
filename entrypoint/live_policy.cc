#include "entrypoint/live_policy.hpp"

#include "core/error.hpp"
#include "entrypoint/audit_channel.hpp"
#include "core/audit/record.hpp"

#include <spdlog/spdlog.h>

namespace rustyolo::entrypoint {

namespace json = boost::json;

namespace {

json::value field(const json::object &body, const char *key) {
    const json::value *value = body.if_contains(key);
    return value ? *value : json::value(nullptr);
}

}  // namespace

namespace {

// A policy record must fit in one audit line (audit::kMaxWireLine) with room for the envelope:
// the live entries become their count first, then the requested and normalised entries theirs.
void fit_record(json::object &details) {
    constexpr std::size_t room = audit::kMaxWireLine - 1024;
    auto count_of = [&details](const char *key) {
        const json::value *v = details.if_contains(key);
        return v && v->is_array() ? v->as_array().size() : 0;
    };
    if (json::serialize(details).size() <= room)
        return;
    if (details.contains("live")) {
        details["live_count"] = count_of("live");
        details.erase("live");
    }
    if (json::serialize(details).size() <= room)
        return;
    for (const char *key : {"requested", "entries"}) {
        details[std::string(key) + "_count"] = count_of(key);
        details.erase(key);
    }
    if (const json::value *error = details.if_contains("error"); error && error->is_string() &&
                                                                   error->as_string().size() > 2048)
        details["error"] = std::string(error->as_string().subview(0, 2048)) + "...";
    details["truncated"] = true;
}

}  // namespace

ControlHandler live_policy_handler(const LoadedPlugin &firewall) {
    return [&firewall](const control::Request &request) -> control::Response {
        if (request.op != "allow" && request.op != "deny")
            return control::refusal(request.id, "unknown control request \"" + request.op + "\" (allow, deny)", true);
        const json::value *entries = request.body.if_contains("entries");
        if (!entries || !entries->is_array() || entries->as_array().empty())
            return control::refusal(request.id, "a live change needs \"entries\": a non-empty list", true);
        json::object details{{"requested", field(request.body, "requested")},
                             {"entries", *entries},
                             {"requester", field(request.body, "requester")}};
        const auto update = firewall.network() ? firewall.network()->update : nullptr;
        control::Response response;
        if (!update) {
            response = control::refusal(request.id,
                                        "the firewall plugin " + firewall.name() + " (" + firewall.path() +
                                            ") cannot change a running session (it has no network.update "
                                            "hook; it was built for plugin ABI " +
                                            std::to_string(firewall.abi_major()) + "." +
                                            std::to_string(firewall.abi_minor()) + ")",
                                        false);
        } else {
            try {
                json::value result = firewall.call("network.update", update,
                                                   json::object{{"op", request.op}, {"entries", *entries}});
                response.ok = true;
                response.result = result.is_object() ? result.as_object() : json::object{};
            } catch (const UsageError &e) {
                response = control::refusal(request.id, e.what(), true);
            } catch (const std::exception &e) {
                response = control::refusal(request.id, e.what(), false);
            }
        }
        response.id = request.id;
        details["result"] = response.ok ? "applied" : response.invalid ? "refused" : "failed";
        if (response.ok) {
            for (const char *key : {"removed_addresses", "ended_flows", "live"})
                if (const json::value *v = response.result.if_contains(key))
                    details[key] = *v;
        } else {
            details["error"] = response.error;
        }
        fit_record(details);
        spdlog::info("live policy change {}: {}", request.op, json::serialize(details));
        audit_emit("policy", "info", request.op, std::move(details));
        return response;
    };
}

}  // namespace rustyolo::entrypoint
