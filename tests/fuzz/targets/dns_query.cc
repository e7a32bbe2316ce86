// A DNS query as the agent sends it to the filter (plugins/dns-filter/server.cc, handle_query): parsed
// with parse_client_query, judged by decide_query against the allow list (filter mode and mode any),
// then answered (NOTIMP, FORMERR, REFUSED: build_error_reply) or looked up in the answer cache and
// forwarded (build_upstream_query); the audit line the filter writes for it (format_deny,
// format_allow) must be one the supervisor accepts (parse_event_line).
#include "plugins/dns-filter/answer_cache.hpp"
#include "plugins/dns-filter/dns_message.hpp"
#include "plugins/dns-filter/server.hpp"
#include "plugins/net-common/feed_protocol.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <optional>
#include <string>

namespace {

using namespace rustyolo;
using namespace rustyolo::dns;

FilterConfig config(Mode mode) {
    FilterConfig c;
    c.mode = mode;
    c.allow.add("allowed.test", {443});
    c.allow.add("*.wild.test", {80, 443});
    c.allow.add("xn--bcher-kva.test", {8443});
    return c;
}

// A line the filter writes: it ends in '\n' and the supervisor parses what comes before.
void check_feed_line(const std::string &line, const std::string &name) {
    fuzz::check(!line.empty() && line.back() == '\n', "feed line without its newline", line);
    const std::string_view body(line.data(), line.size() - 1);
    fuzz::check(body.find('\n') == std::string_view::npos, "feed line with an inner newline", line);
    try {
        net::feed::parse_event_line(body);
    } catch (const net::feed::FeedError &e) {
        fuzz::check(false, "the supervisor refuses a line the filter wrote", line + " (" + e.what() + ") for " + name);
    }
}

void check_reply(const Bytes &reply, const ClientQuery &query) {
    fuzz::check(reply.size() >= 12, "a reply shorter than a DNS header");
    fuzz::check(reply[0] == (query.id >> 8) && reply[1] == (query.id & 0xff), "a reply with another id");
    fuzz::check((reply[2] & 0x80) != 0, "a reply without QR");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    static const FilterConfig filter = config(Mode::filter);
    static const FilterConfig any = config(Mode::any);

    std::optional<ClientQuery> query = parse_client_query(data, size);
    if (!query)
        return 0;  // dropped without a reply
    const ClientQuery &q = *query;
    if (q.single_question)
        fuzz::check(q.question() != nullptr, "a single question without its record");
    fuzz::check(q.max_udp_reply >= plain_udp_size, "a UDP reply limit below 512", std::to_string(q.max_udp_reply));
    for (const FilterConfig *c : {&filter, &any}) {
        const QueryDecision decision = decide_query(q, *c);
        const std::string qtype = type_name(q.qtype);
        switch (decision.action) {
        case QueryDecision::Action::notimpl:
            check_reply(build_error_reply(q, LDNS_RCODE_NOTIMPL), q);
            break;
        case QueryDecision::Action::formerr:
            check_reply(build_error_reply(q, LDNS_RCODE_FORMERR), q);
            break;
        case QueryDecision::Action::refuse:
            check_reply(build_error_reply(q, LDNS_RCODE_REFUSED), q);
            check_feed_line(net::feed::format_deny(qtype, q.qtype, false, decision.reason, q.name.text), q.name.text);
            check_feed_line(net::feed::format_deny(qtype, q.qtype, true, decision.reason, q.name.text), q.name.text);
            break;
        case QueryDecision::Action::forward: {
            fuzz::check(!decision.ports.empty(), "forwarded without ports", q.name.text);
            if (c == &filter)
                fuzz::check(q.name.plain && (q.qtype == LDNS_RR_TYPE_A || q.qtype == LDNS_RR_TYPE_AAAA ||
                                             q.qtype == LDNS_RR_TYPE_CNAME),
                            "the filter forwards a name or type it must refuse", q.name.text);
            check_feed_line(net::feed::format_allow(qtype, q.qtype, false, q.name.text), q.name.text);
            AnswerCache cache(AnswerCache::Limits{});
            fuzz::check(!cache.lookup(q, q.max_udp_reply, AnswerCache::Clock::now()), "an empty cache answered");
            cache_key(q);
            const Bytes upstream = build_upstream_query(q, 0x5a5a);
            // The upstream gets a fresh query: our id, nothing of the client's header but the question.
            fuzz::check(upstream.size() >= 12 && upstream[0] == 0x5a && upstream[1] == 0x5a,
                        "the upstream query does not carry our id");
            fuzz::check(parse_client_query(upstream.data(), upstream.size()).has_value(),
                        "the upstream query is not a query");
            break;
        }
        }
    }
    return 0;
}
