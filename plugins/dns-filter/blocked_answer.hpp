// What the filter answers when its policy does not forward a query. Each answer makes clients fail
// at once, without a retry, and says nothing that is not true:
//
//   name not allowed   NXDOMAIN  glibc, musl, Node and Python report "not found" (EAI_NONAME,
//                                ENOTFOUND) and do not retry; REFUSED would read as a temporary
//                                failure (EAI_AGAIN) that npm and pip retry for minutes. For the
//                                agent the name does not exist: it cannot reach it in any way.
//   type not forwarded NOERROR,  "no records of this type" (NODATA): what a resolver says for a
//   (allowed name)     no records type a name does not have. The client's A/AAAA lookups of the
//                                same name still work. NOTIMP would be wrong (it is about the
//                                opcode) and glibc tries the next server on it.
//   class other than IN REFUSED  the filter serves class IN only; no client library resolves
//                                other classes, so nothing retries.
//
// With EDNS in the query, the reply carries an Extended DNS Error (RFC 8914) 15 "Blocked" whose
// text names the reason and, for a name, the command that allows it. The replies carry no SOA:
// no resolver caches the denial, so a name allowed later resolves at once.
#pragma once

#include "plugins/dns-filter/dns_message.hpp"
#include "plugins/net-common/feed_protocol.hpp"

#include <string>
#include <string_view>

namespace rustyolo::dns {

struct BlockedAnswer {
    ldns_pkt_rcode rcode = LDNS_RCODE_REFUSED;
    std::string text;        // the EDE's EXTRA-TEXT
    std::string short_text;  // the same without the query's name, for a reply that must stay small
};

// Whether `name` (lowercased, without the trailing dot) is a host name that an allow entry names as
// such (net-common's parse_allow_entry takes it as kind "name"): only then does the refusal suggest
// `rustyolo allow NAME`. Not for a name spelt like an address ("1.2.3.4" would be a CIDR entry, the
// raw address), a single label, '_', or a label that starts or ends with '-'.
bool names_an_allow_entry(std::string_view name);

BlockedAnswer blocked_answer(const ClientQuery &query, net::feed::DenyReason reason);

}  // namespace rustyolo::dns
