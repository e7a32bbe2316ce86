#include "plugins/dns-filter/blocked_answer.hpp"

#include <algorithm>

namespace rustyolo::dns {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool names_an_allow_entry(std::string_view name) {
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t labels = 0;
    std::string_view last;
    for (std::size_t start = 0; start <= name.size();) {
        std::size_t end = std::min(name.find('.', start), name.size());
        std::string_view label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
            !std::all_of(label.begin(), label.end(), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-'; }))
            return false;
        ++labels;
        last = label;
        start = end + 1;
    }
    return labels >= 2 && !std::all_of(last.begin(), last.end(), is_digit);
}

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
        else if (!names_an_allow_entry(query.name.text))
            answer.text = "rustyolo sandbox: " + query.name.text + " is not in the allow list and cannot be named in "
                          "an allow entry (a host name of two or more labels of a-z, 0-9 and inner '-')";
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
