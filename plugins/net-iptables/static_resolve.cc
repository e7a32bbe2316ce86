#include "plugins/net-iptables/static_resolve.hpp"

#include <ldns/ldns.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace rustyolo::ipt {

namespace {

using ResolverPtr = std::unique_ptr<ldns_resolver, decltype(&::ldns_resolver_deep_free)>;
using RdfPtr = std::unique_ptr<ldns_rdf, decltype(&::ldns_rdf_deep_free)>;
using PktPtr = std::unique_ptr<ldns_pkt, decltype(&::ldns_pkt_free)>;
using RrListPtr = std::unique_ptr<ldns_rr_list, decltype(&::ldns_rr_list_deep_free)>;

ResolverPtr make_resolver(const std::vector<net::Resolver> &upstreams) {
    ResolverPtr resolver(::ldns_resolver_new(), ::ldns_resolver_deep_free);
    if (!resolver)
        throw std::runtime_error("net-iptables: out of memory for the resolver");
    for (const net::Resolver &upstream : upstreams) {
        if (upstream.port != upstreams.front().port)
            throw std::runtime_error("net-iptables resolves names at start through one port for every upstream, "
                                     "but " + upstreams.front().address + " uses " +
                                     std::to_string(upstreams.front().port) + " and " + upstream.address + " " +
                                     std::to_string(upstream.port) + "; use --firewall nftables or one port");
        RdfPtr address(::ldns_rdf_new_frm_str(upstream.v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
                                              upstream.address.c_str()),
                       ::ldns_rdf_deep_free);
        if (!address || ::ldns_resolver_push_nameserver(resolver.get(), address.get()) != LDNS_STATUS_OK)
            throw std::runtime_error("net-iptables: the upstream resolver " + upstream.address + " is not an address");
    }
    if (!upstreams.empty())
        ::ldns_resolver_set_port(resolver.get(), upstreams.front().port);
    ::ldns_resolver_set_retry(resolver.get(), 2);
    ::ldns_resolver_set_timeout(resolver.get(), timeval{3, 0});
    return resolver;
}

// The addresses of `type` in the answer section, as text; "" and `error` set when none came back.
void query(ldns_resolver *resolver, ldns_rdf *name, ldns_rr_type type, std::vector<std::string> &into,
           std::string &error) {
    PktPtr packet(::ldns_resolver_query(resolver, name, type, LDNS_RR_CLASS_IN, LDNS_RD), ::ldns_pkt_free);
    if (!packet) {
        error = "no answer from the upstream resolvers";
        return;
    }
    if (::ldns_pkt_get_rcode(packet.get()) != LDNS_RCODE_NOERROR) {
        error = "the upstream answered rcode " + std::to_string(::ldns_pkt_get_rcode(packet.get()));
        return;
    }
    RrListPtr records(::ldns_pkt_rr_list_by_type(packet.get(), type, LDNS_SECTION_ANSWER), ::ldns_rr_list_deep_free);
    for (std::size_t i = 0; records && i < ::ldns_rr_list_rr_count(records.get()); ++i) {
        ldns_rdf *rdata = ::ldns_rr_rdf(::ldns_rr_list_rr(records.get(), i), 0);
        char *text = rdata ? ::ldns_rdf2str(rdata) : nullptr;
        if (!text)
            continue;
        if (std::find(into.begin(), into.end(), text) == into.end())
            into.emplace_back(text);
        ::free(text);
    }
}

}  // namespace

Resolved resolve_name(const std::string &name, const std::vector<net::Resolver> &upstreams) {
    Resolved resolved;
    ResolverPtr resolver = make_resolver(upstreams);
    RdfPtr dname(::ldns_dname_new_frm_str(name.c_str()), ::ldns_rdf_deep_free);
    if (!dname) {
        resolved.error = "not a DNS name";
        return resolved;
    }
    std::string error_v4, error_v6;
    query(resolver.get(), dname.get(), LDNS_RR_TYPE_A, resolved.v4, error_v4);
    query(resolver.get(), dname.get(), LDNS_RR_TYPE_AAAA, resolved.v6, error_v6);
    if (resolved.v4.empty() && resolved.v6.empty())
        resolved.error = !error_v4.empty() ? error_v4 : !error_v6.empty() ? error_v6 : "no address";
    return resolved;
}

}  // namespace rustyolo::ipt
