// net-nftables: the default network policy plugin.
//
// Host side: normalise and validate the allow entries and the upstream DNS servers (net-common).
// Container side, in the supervisor before the agent exists:
//   install    read the engine's resolvers from /etc/resolv.conf, bind the NFLOG group of the
//              packet audit (net-common/packet_audit.hpp), install table inet rustyolo in one
//              transaction (ruleset.hpp), bind the stub's sockets on 127.0.0.1:53, start the DNS
//              filter without privileges (net-common/filter_process.hpp), start the feeder thread that fills
//              the allow sets from its answers (feeder.hpp), wait for the filter to be ready, and
//              point /etc/resolv.conf at it.
//   update     a live change of the running session (`rustyolo allow` / `deny`, live_policy.hpp):
//              allow opens the ports for names, fills the live CIDR sets, then lets the DNS filter
//              answer the names; deny first has the filter stop answering, then removes the set
//              elements no remaining entry allows, then ends the open connections to them
//              (open_connections.hpp). At no moment is the policy wider than the old or new one.
//   self_test  read the ruleset back (firewall_check.hpp) and probe it as the agent's uid
//              (net-common/agent_probes.hpp); the probes' own drops are not reported as blocked
//              packets.
//   destroy    (the plugin's destructor, once the supervisor has killed every other process,
//              the DNS filter too) read the filter's last query reports to the end of its pipe,
//              then compare the firewall's drop counters with the packet log messages received and
//              report the difference as one "lost" record.
// Any failure throws: the supervisor stops the start (fail closed).
#include "plugins/net-common/agent_probes.hpp"
#include "plugins/net-common/allow_entry.hpp"
#include "plugins/net-common/filter_process.hpp"
#include "plugins/net-common/live_policy.hpp"
#include "plugins/net-common/open_connections.hpp"
#include "plugins/net-common/network_setup.hpp"
#include "plugins/net-common/normalize.hpp"
#include "plugins/net-common/packet_audit.hpp"
#include "plugins/net-common/resolv_conf.hpp"
#include "plugins/net-nftables/drop_counters.hpp"
#include "plugins/net-nftables/feeder.hpp"
#include "plugins/net-nftables/firewall_check.hpp"
#include "plugins/net-nftables/nft_context.hpp"
#include "plugins/net-nftables/ruleset.hpp"

#include <rustyolo/sdk/json_reader.hpp>
#include <rustyolo/sdk/plugin.hpp>

#include <sys/wait.h>

#include <cerrno>
#include <csignal>

#include <chrono>
#include <concepts>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

constexpr auto filter_ready_timeout = std::chrono::seconds(5);

// The plugin's config may name the DNS filter; by default it sits beside the plugins' directory.
std::string dns_filter_path(const sdk::Host &host) {
    const json::value &config = host.config();
    if (config.is_object())
        if (auto it = config.as_object().find("dns_filter"); it != config.as_object().end() && it->value().is_string())
            return std::string(it->value().as_string());
    return net::default_dns_filter_path();
}

// The DNS name an address was last resolved from, for the packet records: the feeder's
// name_for() where the feeder offers it; otherwise no lookup (every record says "name": null).
template <class F>
net::PacketAudit::NameLookup name_lookup_for(const F &feeder) {
    if constexpr (requires(const F &f, const std::string &address) {
                      { f.name_for(address) } -> std::convertible_to<std::optional<std::string>>;
                  })
        return [&feeder](const std::string &address) -> std::optional<std::string> { return feeder.name_for(address); };
    else
        return {};
}

// A stopwatch that appends "step 1.2 ms" to `timing` at each call.
auto lap_timer(std::string &timing) {
    return [&timing, last = std::chrono::steady_clock::now()](const char *step) mutable {
        auto now = std::chrono::steady_clock::now();
        char text[64];
        std::snprintf(text, sizeof text, "%s%s %.1f ms", timing.empty() ? "" : ", ", step,
                      std::chrono::duration<double, std::milli>(now - last).count());
        timing += text;
        last = now;
    };
}

class NetNftables final : public sdk::Plugin, public sdk::NetworkHook {
public:
    using sdk::Plugin::Plugin;

    // The end of the session (the supervisor's destroy()), once no process but the supervisor is
    // left (entrypoint/supervisor.cc): the DNS filter's last query reports, then the packet
    // audit's final accounting.
    ~NetNftables() override {
        if (feeder_ && end_filter())
            feeder_->drain(std::chrono::seconds(2));
        if (!packet_audit_)
            return;
        if (installed_) {
            auto [ok, message] = packet_audit_->finish_session(drop_counters);
            host().log(ok ? sdk::LogLevel::info : sdk::LogLevel::error, message);
        }
        packet_audit_.reset();  // before the feeder it may ask for names
    }

    json::value normalize(const json::object &request) override { return normalize_network_request(request); }

    json::value install(const json::object &plan_json) override {
        if (installed_)
            throw std::runtime_error("net-nftables: install() was already called in this process");
        // Each step's time, reported in one log line (the install time is benchmarked).
        std::string timing;
        auto lap = lap_timer(timing);
        Plan plan = plan_from_json(plan_json);
        // The engine's resolvers, read before resolv.conf is pointed at the filter.
        std::vector<std::string> engine_nameservers;
        if (plan.network.dns_servers.empty())
            engine_nameservers = net::engine_nameservers();
        net::NetworkSetup setup = net::make_network_setup(plan, engine_nameservers);
        // Allowed queries reach the audit only at level verbose: otherwise the filter does not send them.
        setup.filter_args.insert(setup.filter_args.end(),
                                 {"--report-allowed", plan.audit.level == "verbose" ? "yes" : "no"});
        nft::Ruleset ruleset = nft::build_ruleset(setup.spec);
        lap("plan and ruleset");

        // 0. The packet audit's reader, before the firewall: every drop it counts can be logged.
        sdk::Host &h = host();
        packet_audit_ = std::make_unique<net::PacketAudit>(setup.spec.agent_uid, plan.user.gid,
                                                           [&h](const json::object &record) { h.audit(record); });
        lap("packet audit reader");

        // 1. The firewall, in one transaction: everything or nothing.
        std::string transaction = nft::render_transaction(ruleset);
        lap("rendering");
        try {
            nft::NftContext().run(transaction, "installing table inet rustyolo");
        } catch (const nft::NftError &e) {
            // libnftables names the error and echoes the command that failed.
            const std::string_view what = e.what();
            if (what.find("File exists") == std::string_view::npos ||
                what.find("create table") == std::string_view::npos)
                throw;
            throw std::runtime_error(std::string(e.what()) +
                                     " (table inet rustyolo already exists in this network namespace: is another "
                                     "sandbox sharing it, e.g. through --network container:...? Give each session "
                                     "its own network namespace)");
        }
        lap("nft transaction");
        host().log(sdk::LogLevel::info, "firewall: table inet rustyolo installed (policy drop, IPv4 and IPv6)");

        // 2. The DNS filter, without privileges, on sockets bound here.
        sockets_ = net::bind_stub_sockets();
        net::FilterCommand command{dns_filter_path(host()), setup.filter_args, net::dns_filter_uid, net::dns_filter_gid};
        net::FilterProcess process = net::start_filter(command, sockets_);
        filter_pid_ = process.pid;
        lap("dns filter start");

        // 3. The feeder thread, then wait for the filter to say it serves.
        feeder_ = std::make_unique<nft::Feeder>(std::move(process.events), std::move(process.acks), setup.policy,
                                                feeder_events());
        if (setup.mode == "filter")
            feeder_->set_name_judge(name_judge(net::LivePolicy(plan.network.allow, plan.network.allow_lan)));
        feeder_->start();
        packet_audit_->set_name_lookup(name_lookup_for(*feeder_));
        if (!feeder_->wait_ready(filter_ready_timeout)) {
            net::kill_filter(filter_pid_);
            throw std::runtime_error("the DNS filter " + command.executable + " did not become ready within " +
                                     std::to_string(filter_ready_timeout.count()) + " s (see its message above)");
        }

        lap("dns filter ready");

        // 4. From now on every lookup goes through the filter.
        net::write_stub_resolv_conf(net::resolv_conf_path);
        lap("resolv.conf");
        host().log(sdk::LogLevel::debug, "install timing: " + timing);

        expected_ = std::move(ruleset);
        setup_ = setup;
        live_ = net::LivePolicy(plan.network.allow, plan.network.allow_lan);
        installed_ = true;
        json::array upstreams;
        for (const net::Resolver &r : setup.spec.upstreams)
            upstreams.emplace_back((r.v6 ? "[" + r.address + "]" : r.address) + ":" + std::to_string(r.port));
        if (setup.mode == "any")
            host().log(sdk::LogLevel::warn, std::string(unfiltered_dns_warning) +
                                                "; the firewall still only opens addresses from DNS answers and CIDRs");
        return json::object{{"summary", json::object{{"firewall", "nftables"},
                                                      {"table", "inet rustyolo"},
                                                      {"mode", setup.mode},
                                                      {"upstreams", std::move(upstreams)},
                                                      {"names", setup.names},
                                                      {"wildcards", setup.wildcards},
                                                      {"cidrs", setup.cidrs},
                                                      {"allow_lan", setup.spec.allow_lan},
                                                      {"dns_filter_pid", filter_pid_}}}};
    }

    json::value self_test(const json::object & /*plan*/) override {
        if (!installed_)
            throw std::runtime_error("net-nftables: self_test() before install()");
        std::string timing;
        auto lap = lap_timer(timing);
        std::vector<net::Check> checks;
        std::string listing = nft::NftContext(true).run("list table inet rustyolo", "reading table inet rustyolo back");
        json::error_code ec;
        json::value listed = json::parse(listing, ec);
        if (ec)
            throw std::runtime_error("reading table inet rustyolo back: libnftables printed no valid JSON: " + ec.message());
        checks = nft::compare_ruleset(expected_, listed);
        lap("ruleset read back");

        net::LiveProbeSpec probe{setup_.spec.agent_uid, packet_audit_->probe_gid(), setup_.spec.upstreams,
                                 setup_.mode == "filter", self_test_name_};
        for (net::Check &check : nft::guard_set_checks(expected_))
            checks.push_back(std::move(check));
        lap("guard sets");
        // The probes' own drops (the agent's uid, the probe group) are not reported.
        for (net::Check &check : net::agent_probe_checks(probe))
            checks.push_back(std::move(check));
        lap("agent probes");
        auto [audit_ok, audit_detail] = packet_audit_->self_test_check();
        checks.push_back(net::Check{"packet audit", audit_ok, audit_detail});

        std::string resolv = net::read_file(net::resolv_conf_path);
        bool resolv_ok = resolv == net::stub_resolv_conf;
        checks.push_back(net::Check{"resolv.conf", resolv_ok,
                                    resolv_ok ? "/etc/resolv.conf names 127.0.0.1 only"
                                              : "/etc/resolv.conf was changed after install"});
        bool alive = feeder_ && feeder_->filter_alive();
        checks.push_back(net::Check{"dns filter", alive,
                                    alive ? "running as uid 65533, pid " + std::to_string(filter_pid_)
                                          : "the DNS filter is not running"});

        host().log(sdk::LogLevel::debug, "self-test timing: " + timing);
        return net::require_passed(checks);
    }

    json::value update(const json::object &request) override {
        if (!installed_)
            throw std::runtime_error("net-nftables: update() before install()");
        const sdk::JsonReader reader(request, "network update request");
        const std::string op = reader.one_of("op", {"allow", "deny"});
        std::vector<PlanEgress> entries;
        reader.each("entries", [&](const sdk::JsonReader &e) { entries.push_back(egress_from_json(e)); });
        if (entries.empty())
            throw sdk::InvalidInput("a live change names no entry");
        const bool deny = op == "deny";
        net::LivePolicy::Change change = deny ? live_.deny(entries) : live_.allow(entries);
        net::LivePolicy next = live_;
        next.commit(change);

        std::size_t removed = 0, ended = 0;
        if (!deny) {
            // Widening: what a name's addresses need first (admitted ports), then the CIDRs, then
            // the filter answers the names.
            feeder_->set_name_ports(admitted_ports(next));
            if (setup_.mode == "filter")
                feeder_->set_name_judge(name_judge(next));
            if (change.cidrs_changed)
                nft::NftContext().run(nft::live_cidr_script(next.live_ranges()), "filling the live CIDR sets");
            send_to_filter(change);
            live_ = std::move(next);
        } else {
            // Narrowing: the filter stops answering, then the sets, then the open connections.
            send_to_filter(change);
            live_ = next;
            if (setup_.mode == "filter")
                feeder_->set_name_judge(name_judge(live_));
            if (change.cidrs_changed)
                nft::NftContext().run(nft::live_cidr_script(live_.live_ranges()), "narrowing the live CIDR sets");
            std::vector<nft::Element> gone =
                feeder_->withdraw([this](const std::string &name, std::uint16_t port) { return live_.name_allows(name, port); });
            removed = gone.size();
            feeder_->set_name_ports(admitted_ports(live_));
            std::set<nft::Element> doomed(gone.begin(), gone.end());
            std::vector<PlanEgress> cidrs;
            for (const PlanEgress &entry : change.applied)
                if (entry.kind == "cidr")
                    cidrs.push_back(entry);
            ended = net::end_connections([&](bool v6, const std::string &address, std::uint16_t port) {
                if (doomed.count(nft::Element{v6, address, port}))
                    return !live_.cidr_allows(v6, address, port);
                if (cidrs.empty() || !net::LivePolicy(cidrs, true).cidr_allows(v6, address, port))
                    return false;
                // In a denied CIDR: ended unless something still allows it.
                return !live_.cidr_allows(v6, address, port) && !feeder_->fed(v6, address, port);
            });
        }
        json::array applied;
        for (const PlanEgress &entry : change.applied)
            applied.push_back(to_json(entry));
        json::array live;
        for (const PlanEgress &entry : live_.live_entries())
            live.push_back(to_json(entry));
        return json::object{{"applied", std::move(applied)},
                            {"live", std::move(live)},
                            {"removed_addresses", removed},
                            {"ended_flows", ended}};
    }

private:
    // The feeder's check of each batch's name: a copy of `policy`, so that the feeder thread never
    // reads the control thread's state.
    static nft::Feeder::NameJudge name_judge(const net::LivePolicy &policy) {
        return [names = policy.names()](const std::string &name, std::uint16_t port) {
            return net::LivePolicy::allows(names, name, port);
        };
    }

    // The ports the admission accepts for names under `policy` (in mode any also 80 and 443, which
    // every name gets).
    std::vector<std::uint16_t> admitted_ports(const net::LivePolicy &policy) const {
        std::vector<std::uint16_t> ports = policy.name_ports();
        if (setup_.mode == "any")
            ports = net::merge_ports(ports, {80, 443});
        return ports;
    }

    // The DNS filter's part of a live change: one policy line per name touched, each confirmed.
    void send_to_filter(const net::LivePolicy::Change &change) {
        for (const auto &[entry, ports] : change.names) {
            const std::uint32_t seq = ++policy_seq_;
            if (!feeder_->change_filter(seq, net::feed::format_policy(seq, entry, ports), filter_ready_timeout))
                throw std::runtime_error("the DNS filter did not confirm the change of " + entry + " within " +
                                         std::to_string(filter_ready_timeout.count()) + " s");
        }
    }

    // The supervisor killed the filter with every other process after the agent exited (and
    // reaped it). When the start failed before that (or in a host without PID 1's sweep), it still
    // runs: killed here, so that its events pipe ends. waitid(WNOWAIT) looks without reaping: an
    // unreaped child's pid cannot have been reused. Returns whether the filter has ended (false
    // when it cannot be killed here, e.g. without CAP_KILL: then there is no end to read up to).
    bool end_filter() const {
        siginfo_t info{};
        if (filter_pid_ <= 0 ||
            ::waitid(P_PID, static_cast<id_t>(filter_pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0)
            return true;  // reaped already, or exited
        if (::kill(filter_pid_, SIGKILL) != 0)
            return false;
        while (::waitpid(filter_pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        return true;
    }

    // Packets counted by the firewall's drop rules so far.
    static std::uint64_t drop_counters() {
        nft::NftContext nft(true);
        return nft::read_drop_counters(nft);
    }

    nft::FeederEvents feeder_events() {
        sdk::Host &h = host();
        nft::FeederEvents events;
        events.log = [&h](bool error, const std::string &message) {
            h.log(error ? sdk::LogLevel::error : sdk::LogLevel::info, "dns filter feed: " + message);
        };
        // docs/audit-schema.md, layer dns, event query.
        // Reports for the self-test's own probe name are left out: a name new in each session,
        // unknown to the agent, so the agent cannot hide its own queries under it.
        events.query = [&h, probe_name = self_test_name_](const net::feed::QueryReport &query, bool allowed,
                                                           net::feed::DenyReason reason) {
            if (query.name == probe_name)
                return;  // self_test's own probe
            std::string rule = "dns-filter: allowed name";
            if (!allowed && reason == net::feed::DenyReason::name)
                rule = "dns-filter: name not in the allowlist";
            else if (!allowed && reason == net::feed::DenyReason::type)
                rule = "dns-filter: type " + query.qtype + " not answered";
            else if (!allowed)
                rule = "dns-filter: class other than IN not answered";
            h.audit(json::object{{"layer", "dns"},
                                 {"verdict", allowed ? "allow" : "block"},
                                 {"event", "query"},
                                 {"details", json::object{{"name", query.name},
                                                          {"qtype", query.qtype},
                                                          {"protocol", query.tcp ? "tcp" : "udp"},
                                                          {"rule", std::move(rule)}}}});
        };
        // docs/audit-schema.md, layer network, event address.
        events.refused_address = [&h](const net::RefusedAddress &refused, const std::string &name) {
            json::array ports;
            for (std::uint16_t port : refused.address.ports)
                ports.emplace_back(port);
            h.audit(json::object{{"layer", "network"},
                                 {"verdict", "block"},
                                 {"event", "address"},
                                 {"details", json::object{{"destination", refused.address.address},
                                                          {"ports", std::move(ports)},
                                                          {"name", name},
                                                          {"reason", refused.reason},
                                                          {"rule", "feeder: address class guard"}}}});
            h.log(sdk::LogLevel::warn, "DNS answer address " + refused.address.address + " for " + name +
                                           " not allowed: " + refused.reason);
        };
        return events;
    }

    bool installed_ = false;
    const std::string self_test_name_ = net::random_self_test_name();  // the stub probe's name, this session's
    std::unique_ptr<net::PacketAudit> packet_audit_;  // blocked packets -> audit records
    net::StubSockets sockets_;  // held for the whole session: port 53 can never be taken over
    std::unique_ptr<nft::Feeder> feeder_;
    pid_t filter_pid_ = -1;
    nft::Ruleset expected_;
    net::NetworkSetup setup_;
    net::LivePolicy live_;          // the session's entries, start and live (update())
    std::uint32_t policy_seq_ = 0;  // the last live change sent to the filter
};

}  // namespace
}  // namespace rustyolo::net

RUSTYOLO_PLUGIN(rustyolo::net::NetNftables, "net-nftables", "1.0.0",
                "Default-deny nftables firewall fed by the DNS filter")
