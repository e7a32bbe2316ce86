// The DNS filter's feed protocol (plugins/net-common/feed_protocol.hpp), both ends. The supervisor's
// side reads what the unprivileged filter writes (plugins/net-nftables/feeder.cc): the byte stream
// split into lines (LineSplitter), each line into batches (BatchAssembler::on_line, parse_event_line),
// each finished batch admitted by policy (admit) and turned into the nft script (element_script)
// and the ack's life (batch_life). The filter's side reads the supervisor's acks (parse_ack).
//
// Properties: the split does not depend on how the bytes arrive; an accepted line is in the
// protocol's one canonical form (formatting what was parsed gives the line back); no refused
// address reaches the sets.
#include "plugins/net-common/admission.hpp"
#include "plugins/net-common/allow_entry.hpp"
#include "plugins/net-common/feed_protocol.hpp"
#include "plugins/net-nftables/feed_batch.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace rustyolo;
namespace feed = rustyolo::net::feed;

std::vector<feed::LineSplitter::Item> split(feed::LineSplitter &splitter) {
    std::vector<feed::LineSplitter::Item> items;
    while (auto item = splitter.next())
        items.push_back(std::move(*item));
    return items;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view bytes = fuzz::text(data, size);

    feed::LineSplitter whole;
    whole.feed(bytes);
    std::vector<feed::LineSplitter::Item> items = split(whole);
    // The same bytes in pieces of 1, 2, 3, ... bytes: the same lines.
    feed::LineSplitter pieces;
    for (std::size_t at = 0, n = 1; at < bytes.size(); at += n, ++n)
        pieces.feed(bytes.substr(at, n));
    std::vector<feed::LineSplitter::Item> again = split(pieces);
    fuzz::check(again.size() == items.size(), "the split depends on the chunking");
    for (std::size_t i = 0; i < items.size(); ++i) {
        fuzz::check(items[i].line == again[i].line && items[i].overlong == again[i].overlong,
                    "the split depends on the chunking", items[i].line);
        fuzz::check(items[i].line.size() <= feed::max_line_length, "a line longer than the maximum");
    }

    net::AdmissionPolicy policy;
    policy.ports = {80, 443, 8443};
    nft::BatchAssembler assembler;
    nft::FreshElements fresh;
    nft::NameMemory names(8);
    const auto now = std::chrono::steady_clock::now();
    for (const feed::LineSplitter::Item &item : items) {
        if (!item.overlong) {
            try {
                const feed::EventLine event = feed::parse_event_line(item.line);
                using Kind = feed::EventLine::Kind;
                if (event.kind == Kind::ready)
                    fuzz::check(feed::format_ready() == item.line + "\n", "ready not canonical", item.line);
                if (event.kind == Kind::address)
                    fuzz::check(feed::format_address(event.id, event.address) == item.line + "\n",
                                "an address line that is not canonical", item.line);
                if (event.kind == Kind::end)
                    fuzz::check(feed::format_end(event.id, event.name) == item.line + "\n",
                                "an end line that is not canonical", item.line);
            } catch (const feed::FeedError &) {
            }
            if (std::optional<feed::Ack> ack = feed::parse_ack(item.line))
                fuzz::check(feed::format_ack(ack->id, ack->ok, ack->life) == item.line + "\n",
                            "an ack that is not canonical", item.line);
        }
        for (nft::FeedAction &action : assembler.on_line(item)) {
            if (action.kind != nft::FeedAction::Kind::apply)
                continue;
            fuzz::check(action.addresses.size() <= feed::max_addresses_per_batch, "an oversized batch");
            const net::Admission admission = net::admit(action.addresses, policy);
            for (const net::AnswerAddress &address : admission.accepted) {
                fuzz::check(!net::is_loopback(address.address) && !net::is_link_local(address.address) &&
                                !net::is_private(address.address),
                            "a refused address was admitted", address.address);
                for (std::uint16_t port : address.ports)
                    fuzz::check(port == 80 || port == 443 || port == 8443, "a port no entry opens was admitted",
                                address.address);
                names.remember(address.address, action.name);
            }
            const std::vector<net::AnswerAddress> update = fresh.needing_update(admission.accepted, policy, now);
            const std::string script = nft::element_script(update, policy);
            fuzz::check(script.find('\n') == std::string::npos || script.back() == '\n', "a cut nft script");
            fresh.applied(update, policy, now);
            const std::uint32_t life = nft::batch_life(admission, policy);
            if (!admission.refused.empty())
                fuzz::check(life == 0, "a batch with a refused address acknowledged with a life");
        }
    }
    return 0;
}
