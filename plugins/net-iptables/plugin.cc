// net-iptables: the seed's firewall mechanism, for kernels without nftables (--firewall iptables).
//
// Built on net-common alone (no libnftables). Host side: the normalisation both firewalls share.
// Container side:
//   install    resolve every exact name once, straight from the upstream resolvers
//              (static_resolve.hpp; before anything else changes), bind the packet audit's NFLOG
//              group (net-common/packet_audit.hpp), build one ip6tables-restore and one
//              iptables-restore batch (iptables_rules.hpp) and apply them (IPv6 first, so that a
//              failure never leaves IPv6 open behind a closed IPv4), bind the stub's sockets and
//              start the DNS filter (net-common/filter_process.hpp; names stay filtered, DNS
//              tunnelling stays closed), point /etc/resolv.conf at it.
//   self_test  iptables-save/ip6tables-save read back (policies, our rules by comment, in order) and
//              the agent-uid probes (net-common/agent_probes.hpp; their drops are not reported).
//   destroy    (the destructor) the NFLOG rules' counters against the log messages received: the
//              difference is reported as one "lost" record.
// Limits (the seed's): addresses are fixed at start, so a name whose addresses rotate becomes
// unreachable on its new addresses; wildcard entries resolve but open nothing.
#include "plugins/net-common/admission.hpp"
#include "plugins/net-common/agent_probes.hpp"
#include "plugins/net-common/filter_process.hpp"
#include "plugins/net-common/network_setup.hpp"
#include "plugins/net-common/normalize.hpp"
#include "plugins/net-common/packet_audit.hpp"
#include "plugins/net-common/resolv_conf.hpp"
#include "plugins/net-iptables/iptables_rules.hpp"
#include "plugins/net-iptables/run_program.hpp"
#include "plugins/net-iptables/static_resolve.hpp"

#include <rustyolo/sdk/plugin.hpp>

#include <signal.h>

#include <cerrno>

#include <algorithm>
#include <map>
#include <memory>

namespace rustyolo::net {
namespace {

namespace json = boost::json;

std::string config_string(const sdk::Host &host, std::string_view key, std::string fallback) {
    const json::value &config = host.config();
    if (config.is_object())
        if (auto it = config.as_object().find(key); it != config.as_object().end() && it->value().is_string())
            return std::string(it->value().as_string());
    return fallback;
}

// The filter's argv without the feed pipes: nothing feeds static rules.
std::vector<std::string> without_feed(const std::vector<std::string> &args) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "--events-fd" || args[i] == "--ack-fd") && i + 1 < args.size()) {
            ++i;
            continue;
        }
        out.push_back(args[i]);
    }
    return out;
}

class NetIptables final : public sdk::Plugin, public sdk::NetworkHook {
public:
    using sdk::Plugin::Plugin;

    // The end of the session (the supervisor's destroy()): the packet audit's final accounting.
    ~NetIptables() override {
        if (!packet_audit_)
            return;
        if (installed_) {
            auto [ok, message] = packet_audit_->finish_session([this] { return drop_counters(); });
            host().log(ok ? sdk::LogLevel::info : sdk::LogLevel::error, message);
        }
        packet_audit_.reset();
    }

    json::value normalize(const json::object &request) override { return normalize_network_request(request); }

    json::value install(const json::object &plan_json) override {
        if (installed_)
            throw std::runtime_error("net-iptables: install() was already called in this process");
        Plan plan = plan_from_json(plan_json);
        std::vector<std::string> engine_nameservers;
        if (plan.network.dns_servers.empty())
            engine_nameservers = net::engine_nameservers();
        net::NetworkSetup setup = net::make_network_setup(plan, engine_nameservers);

        // 1. Static resolution, straight from the upstreams the filter will use (before the filter
        //    exists: its answers are not cached, and no flow of its uid predates the firewall).
        ipt::IptablesSpec spec{setup.spec, resolve(plan, setup)};

        // The packet audit's reader, before the firewall: every drop it counts can be logged.
        sdk::Host &h = host();
        packet_audit_ = std::make_unique<net::PacketAudit>(setup.spec.agent_uid, plan.user.gid,
                                                           [&h](const json::object &record) { h.audit(record); });

        // 2. The firewall: IPv6 first, then IPv4; each one batch, applied whole or not at all.
        ipt::Batch v6 = ipt::ipv6_batch(spec), v4 = ipt::ipv4_batch(spec);
        restore(config_string(host(), "ip6tables_restore", "/usr/sbin/ip6tables-restore"), v6.text, "IPv6");
        restore(config_string(host(), "iptables_restore", "/usr/sbin/iptables-restore"), v4.text, "IPv4");
        host().log(sdk::LogLevel::info, "firewall: iptables and ip6tables filter tables installed (policy DROP)");

        // 3. The DNS filter, as with nftables but without a feed, and resolv.conf pointed at it
        //    (nothing to do when the runtime's read-only file already names it).
        sockets_ = net::bind_stub_sockets();
        net::FilterCommand command{config_string(host(), "dns_filter", net::default_dns_filter_path()),
                                   without_feed(setup.filter_args), net::dns_filter_uid, net::dns_filter_gid};
        net::FilterProcess process = net::start_filter(command, sockets_);
        filter_pid_ = process.pid;
        net::write_stub_resolv_conf(net::resolv_conf_path);

        expected_v4_ = v4.comments;
        expected_v6_ = v6.comments;
        setup_ = setup;
        installed_ = true;
        if (setup.wildcards)
            host().log(sdk::LogLevel::warn, "net-iptables: wildcard entries (*.suffix) resolve but open no address; "
                                            "use --firewall nftables for them");
        return json::object{{"summary", json::object{{"firewall", "iptables"},
                                                      {"mode", setup.mode},
                                                      {"names", setup.names},
                                                      {"addresses", spec.addresses.size()},
                                                      {"cidrs", setup.cidrs},
                                                      {"rules_v4", rule_count(v4.comments)},
                                                      {"rules_v6", rule_count(v6.comments)},
                                                      {"dns_filter_pid", filter_pid_}}}};
    }

    json::value self_test(const json::object & /*plan*/) override {
        if (!installed_)
            throw std::runtime_error("net-iptables: self_test() before install()");
        std::vector<net::Check> checks;
        checks.push_back(compare("IPv4", config_string(host(), "iptables_save", "/usr/sbin/iptables-save"), expected_v4_));
        checks.push_back(compare("IPv6", config_string(host(), "ip6tables_save", "/usr/sbin/ip6tables-save"), expected_v6_));
        // The probes' own drops (the agent's uid, the probe group) are not reported.
        net::LiveProbeSpec probe{setup_.spec.agent_uid, packet_audit_->probe_gid(), setup_.spec.upstreams,
                                 setup_.mode == "filter"};
        for (net::Check &check : net::agent_probe_checks(probe))
            checks.push_back(std::move(check));
        auto [audit_ok, audit_detail] = packet_audit_->self_test_check();
        checks.push_back(net::Check{"packet audit", audit_ok, audit_detail});
        bool resolv_ok = net::read_file(net::resolv_conf_path) == net::stub_resolv_conf;
        checks.push_back(net::Check{"resolv.conf", resolv_ok, resolv_ok ? "names 127.0.0.1 only" : "was changed"});
        // Without CAP_KILL, signalling another uid's process fails with EPERM: it exists, then.
        bool alive = ::kill(filter_pid_, 0) == 0 || errno == EPERM;
        checks.push_back(net::Check{"dns filter", alive, alive ? "running" : "not running"});
        return net::require_passed(checks);
    }

private:
    // Packets counted by the NFLOG rules of both families (iptables-save -c).
    std::uint64_t drop_counters() {
        std::uint64_t total = 0;
        for (auto [key, fallback] : {std::pair{"iptables_save", "/usr/sbin/iptables-save"},
                                     std::pair{"ip6tables_save", "/usr/sbin/ip6tables-save"}}) {
            std::string program = config_string(host(), key, fallback);
            ipt::ProgramResult result = ipt::run_program({program, "-c", "-t", "filter"}, "");
            if (result.status != 0)
                throw std::runtime_error(program + " -c failed (exit " + std::to_string(result.status) + "): " + result.err);
            total += ipt::drop_counters(result.out);
        }
        return total;
    }

    static std::size_t rule_count(const std::map<std::string, std::vector<std::string>> &comments) {
        std::size_t n = 0;
        for (const auto &[chain, ids] : comments)
            n += ids.size();
        return n;
    }

    std::vector<ipt::StaticAddress> resolve(const Plan &plan, const net::NetworkSetup &setup) {
        net::AdmissionPolicy policy = setup.policy;
        std::map<std::pair<bool, std::string>, std::vector<std::uint16_t>> merged;
        for (const PlanEgress &entry : plan.network.allow) {
            if (entry.kind != "name")
                continue;
            ipt::Resolved resolved = ipt::resolve_name(entry.value, setup.spec.upstreams);
            if (!resolved.error.empty()) {
                host().log(sdk::LogLevel::warn, "net-iptables: " + entry.value + " did not resolve (" + resolved.error +
                                                    "); it stays unreachable");
                continue;
            }
            std::vector<net::AnswerAddress> answers;
            for (const std::string &a : resolved.v4)
                answers.push_back(net::AnswerAddress{false, a, 0, entry.ports});
            for (const std::string &a : resolved.v6)
                answers.push_back(net::AnswerAddress{true, a, 0, entry.ports});
            net::Admission admission = net::admit(answers, policy);
            for (const net::RefusedAddress &refused : admission.refused)
                host().log(sdk::LogLevel::warn, "net-iptables: " + entry.value + " -> " + refused.address.address +
                                                    " not allowed: " + refused.reason);
            for (const net::AnswerAddress &a : admission.accepted) {
                auto &ports = merged[{a.v6, a.address}];
                ports.insert(ports.end(), a.ports.begin(), a.ports.end());
                std::sort(ports.begin(), ports.end());
                ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
            }
        }
        std::vector<ipt::StaticAddress> out;
        for (const auto &[key, ports] : merged)
            out.push_back(ipt::StaticAddress{key.first, key.second, ports, ""});
        return out;
    }

    void restore(const std::string &program, const std::string &batch, const char *family) {
        ipt::ProgramResult result = ipt::run_program({program}, batch);
        if (result.status != 0)
            throw std::runtime_error(std::string("installing the ") + family + " firewall with " + program +
                                     " failed (exit " + std::to_string(result.status) + "): " + result.err +
                                     " -- nothing of this batch was applied");
    }

    net::Check compare(const char *family, const std::string &program,
                       const std::map<std::string, std::vector<std::string>> &expected) {
        ipt::ProgramResult result = ipt::run_program({program, "-t", "filter"}, "");
        std::string name = std::string("ruleset ") + family;
        if (result.status != 0)
            return net::Check{name, false, program + " failed: " + result.err};
        ipt::Saved saved = ipt::parse_save(result.out);
        std::vector<std::string> problems;
        for (const char *chain : {"INPUT", "FORWARD", "OUTPUT"})
            if (saved.policies[chain] != "DROP")
                problems.push_back(std::string(chain) + " policy is " + saved.policies[chain]);
        for (const auto &[chain, ids] : expected)
            if (saved.comments[chain] != ids)
                problems.push_back("chain " + chain + " does not hold exactly our rules");
        for (const auto &[chain, ids] : saved.comments)
            if (!expected.count(chain))
                problems.push_back("unexpected chain " + chain);
        std::string detail;
        for (const auto &p : problems)
            detail += (detail.empty() ? "" : "; ") + p;
        return net::Check{name, problems.empty(), problems.empty() ? "policies DROP, every rule as meant" : detail};
    }

    bool installed_ = false;
    std::unique_ptr<net::PacketAudit> packet_audit_;  // blocked packets -> audit records
    net::StubSockets sockets_;
    pid_t filter_pid_ = -1;
    std::map<std::string, std::vector<std::string>> expected_v4_, expected_v6_;
    net::NetworkSetup setup_;
};

}  // namespace
}  // namespace rustyolo::net

RUSTYOLO_PLUGIN(rustyolo::net::NetIptables, "net-iptables", "1.0.0",
                "The seed's static firewall (iptables-restore, both families) for kernels without nftables")
