#include "plugins/dns-filter/blocked_answer.hpp"

namespace rustyolo::dns {

BlockedAnswer blocked_answer(const ClientQuery &query, net::feed::DenyReason reason) {
    using net::feed::DenyReason;
    BlockedAnswer answer;
    switch (reason) {
    case DenyReason::name:
        answer.rcode = LDNS_RCODE_NXDOMAIN;
        answer.short_text = "rustyolo sandbox: name not in the allow list";
        if (!query.name.plain)
            answer.text = "rustyolo sandbox: a name with bytes outside [a-z0-9_-] can never be allowed";
        else if (query.name.text.empty())
            answer.text = answer.short_text;
        else
            answer.text = "rustyolo sandbox: " + query.name.text + " is not in the allow list; ask the user to run: "
                          "rustyolo allow " + query.name.text;
        break;
    case DenyReason::type:
        answer.rcode = LDNS_RCODE_NOERROR;
        answer.short_text = "rustyolo sandbox: only A, AAAA and CNAME queries are forwarded";
        answer.text = answer.short_text + " (this one: " + type_name(query.qtype) + ")";
        break;
    case DenyReason::qclass:
        answer.rcode = LDNS_RCODE_REFUSED;
        answer.short_text = answer.text = "rustyolo sandbox: only class IN is served";
        break;
    }
    return answer;
}

}  // namespace rustyolo::dns
