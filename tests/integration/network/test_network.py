"""The network policy, tested for real on a hermetic Docker network (see netlib.py).

"Blocked" means the test host's log shows nothing arrived, not just that the client failed; every
negative check is paired with a positive one that shows the same path is logged when it is open.
"""
import json
import time

import pytest

import netlib
from netlib import LINK_LOCAL_TARGET, LINK_LOCAL_NET


def ok(result):
    return result.startswith("ok")


def refused(result):
    """The DNS filter's own answer for a name that is not allowed: NXDOMAIN (blocked_answer.hpp)."""
    return result.startswith("ok rcode=3 ")


def type_refused(result):
    """Its answer for a type it does not forward, of an allowed name: NOERROR without records."""
    return result.startswith("ok rcode=0 ") and result.endswith(" an=-")


def answers(result):
    """Addresses of a probe's `dns` result."""
    assert result.startswith("ok rcode="), result
    listed = result.split(" an=", 1)[1]
    return [] if listed == "-" else listed.split(",")


def stub(box, name, qtype="A", proto="udp"):
    return box.cmd(f"dns 127.0.0.1 53 {proto} {name} {qtype}")


# ---- reachability ---------------------------------------------------------------------------------

def test_allowed_name_is_reachable_on_443_and_80(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    mark = testnet.events.mark()
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert box.cmd(f"tcp {testnet.ip(20)} 80") == f"ok hello from hosts {testnet.ip(20)} 80"
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(20)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(20)}:80")


def test_blocked_name_raw_ip_and_wrong_port_never_arrive(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    name = f"{netlib.token()}.blocked.test"
    dns_mark, mark = testnet.dns_log.mark(), testnet.events.mark()
    assert refused(stub(box, name)), "a name that is not allowed must be NXDOMAIN"
    assert not ok(box.cmd(f"tcp {testnet.ip(22)} 443 1500")), "raw IP of the blocked name"
    assert not ok(box.cmd(f"tcp {testnet.ip(27)} 443 1500")), "raw IP never resolved"
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    assert not ok(box.cmd(f"tcp {testnet.ip(20)} 8080 1500")), "allowed host, port not allowed"
    assert not ok(box.cmd(f"tcp {testnet.ip(20)} 22 1500")), "allowed host, port not allowed"
    # Positive control, after the negatives: the log is written in order, so it is complete.
    assert ok(box.cmd(f"tcp {testnet.ip(20)} 443"))
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(20)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(22)}:") == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(27)}:") == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(20)}:8080") == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(20)}:22") == []
    assert name not in testnet.queries(dns_mark)
    assert "allowed.test" in testnet.queries(dns_mark)
    # The same paths are open without the sandbox (so the negatives above mean something).
    assert ok(testnet.control("tcp", testnet.ip(22), "443"))
    assert ok(testnet.control("tcp", testnet.ip(20), "8080"))


def test_udp_and_icmp_never_arrive(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    mark = testnet.events.mark()
    assert box.cmd(f"udp {testnet.ip(20)} 9999") == "err EPERM"
    assert box.cmd(f"icmp {testnet.ip(20)}") == "err EPERM"
    # Positive twins from a container without the firewall, then the check.
    assert ok(testnet.control("udp", testnet.ip(20), "9999"))
    assert ok(testnet.control("icmp", testnet.ip(20)))
    assert testnet.events.wait_for(mark, "icmp", testnet.ip(20))
    assert testnet.events.hits(mark, "udp", f"{testnet.ip(20)}:9999")
    sandbox_ip = box_ip(box, testnet)
    assert [e for e in testnet.events.entries(mark) if e["peer"] == sandbox_ip] == []


def box_ip(box, testnet):
    out = netlib.docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", box.name).stdout
    return json.loads(out)[testnet.name]["IPAddress"]


def test_ipv6_is_closed_with_ipv6_off(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {testnet.ip6(20)} 443 1500"))
    assert not ok(box.cmd(f"tcp {testnet.ip6(21)} 443 1500"))
    assert ok(testnet.control("tcp", testnet.ip6(20), "443"))  # IPv6 works on this network
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip6(20)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip6(21)}:") == []
    sandbox_ip = box_ip(box, testnet)
    assert [e for e in testnet.events.entries(mark) if e["peer"] == sandbox_ip] == []


@pytest.mark.parametrize("runner", ["harness"])
def test_ipv6_is_filtered_like_ipv4_when_on(sandboxes, testnet):
    """With IPv6 switched on (the CLI always switches it off), the inet table filters it the same way."""
    box = sandboxes.open(["allowed.test"], ipv6=True)
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {testnet.ip6(20)} 443 1500")), "not resolved yet"
    assert not ok(box.cmd(f"tcp {testnet.ip6(21)} 443 1500")), "never resolved"
    assert box.cmd(f"udp {testnet.ip6(20)} 9999") == "err EPERM"
    assert answers(stub(box, "allowed.test", "AAAA")) == [testnet.ip6(20)]
    assert box.cmd(f"tcp {testnet.ip6(20)} 443") == f"ok hello from hosts {testnet.ip6(20)} 443"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip6(20)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip6(21)}:") == []
    hits_20 = testnet.events.hits(mark, "tcp", f"{testnet.ip6(20)}:443")
    assert len(hits_20) == 1, "only the connection after the AAAA lookup arrived"


@pytest.mark.parametrize("runner", ["harness"])
def test_ipv6_cidr_entry_is_reachable_on_its_port_only(sandboxes, testnet):
    box = sandboxes.open([f"[{testnet.ip6(21)}]:8080"], ipv6=True)
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {testnet.ip6(21)} 443 1500"))
    assert box.cmd(f"tcp {testnet.ip6(21)} 8080") == f"ok hello from hosts {testnet.ip6(21)} 8080"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip6(21)}:8080")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip6(21)}:443") == []


def test_cidr_entry_is_reachable_on_its_port_only(sandboxes, testnet):
    box = sandboxes.open([f"{testnet.ip(27)}:8080"])
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {testnet.ip(27)} 443 1500"))
    assert box.cmd(f"tcp {testnet.ip(27)} 8080") == f"ok hello from hosts {testnet.ip(27)} 8080"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(27)}:8080")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(27)}:443") == []


def test_many_cidr_entries_of_one_length_are_reachable_on_their_ports_only(sandboxes, testnet):
    """16 or more prefixes of one length go into a plain set matched under their mask
    (plugins/net-nftables/ruleset.cc): the same semantics as the interval sets."""
    blocks = [k for k in range(17) if k != 6]  # .24/30 (so .27) left out; .20/30 (so .20) in
    box = sandboxes.open([f"{testnet.v4}.{4 * k}/30" for k in blocks])
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {testnet.ip(27)} 443 1500")), "outside every prefix"
    assert not ok(box.cmd(f"tcp {testnet.ip(20)} 8080 1500")), "inside a prefix, port not allowed"
    assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(20)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(27)}:443") == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(20)}:8080") == []


# ---- names ------------------------------------------------------------------------------------------

def test_wildcard_matches_subdomains_only(sandboxes, testnet):
    box = sandboxes.open(["*.wild.test"])
    tok = netlib.token()
    dns_mark, mark = testnet.dns_log.mark(), testnet.events.mark()
    assert refused(stub(box, "wild.test")), "*.wild.test does not match wild.test"
    assert refused(stub(box, f"{tok}wild.test")), "*.wild.test does not match xwild.test"
    assert refused(stub(box, f"wild.test.{tok}")), "nor a name below another suffix"
    assert answers(stub(box, f"x{tok}.wild.test")) == [testnet.ip(21)]
    assert answers(stub(box, f"Y.X{tok}.Wild.Test.")) == [testnet.ip(21)], "case and trailing dot"
    assert box.cmd(f"tcp {testnet.ip(21)} 443") == f"ok hello from hosts {testnet.ip(21)} 443"
    asked = testnet.queries(dns_mark)
    assert f"x{tok}.wild.test" in asked and f"y.x{tok}.wild.test" in asked
    assert "wild.test" not in asked and f"{tok}wild.test" not in asked and f"wild.test.{tok}" not in asked
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(21)}:443")


def test_cname_chain_opens_the_final_address_for_the_queried_names_ports(sandboxes, testnet):
    box = sandboxes.open(["alias.test:8080"])
    mark = testnet.events.mark()
    result = stub(box, "alias.test")
    assert answers(result) == ["CNAME", testnet.ip(26)]
    assert box.cmd(f"tcp {testnet.ip(26)} 8080") == f"ok hello from hosts {testnet.ip(26)} 8080"
    assert not ok(box.cmd(f"tcp {testnet.ip(26)} 443 1500")), "only the queried name's port"
    assert refused(stub(box, "target.test")), "the CNAME target itself is not an allowed name"
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(26)}:443") == []


def test_no_query_for_a_name_that_is_not_allowed_reaches_the_dns_server(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    tok = netlib.token()
    leaks = {
        "stub-udp": f"leak-{tok}-su.blocked.test",
        "stub-tcp": f"leak-{tok}-st.blocked.test",
        "direct-udp": f"leak-{tok}-du.blocked.test",
        "direct-tcp": f"leak-{tok}-dt.blocked.test",
        "subdomain": f"leak-{tok}.allowed.test",
        "txt": "allowed.test",
    }
    dns_mark = testnet.dns_log.mark()
    assert refused(stub(box, leaks["stub-udp"]))
    assert refused(stub(box, leaks["stub-tcp"], proto="tcp"))
    assert box.cmd(f"dns {testnet.dns_ip} 53 udp {leaks['direct-udp']} A") == "err EPERM"
    assert not ok(box.cmd(f"dns {testnet.dns_ip} 53 tcp {leaks['direct-tcp']} A"))
    assert refused(stub(box, leaks["subdomain"])), "a subdomain of an exact entry is not allowed"
    assert type_refused(stub(box, "allowed.test", "TXT")), "other types of an allowed name are not forwarded"
    assert type_refused(stub(box, "allowed.test", "MX"))
    assert type_refused(stub(box, "allowed.test", "ANY", proto="tcp"))
    # Positive control: an allowed query is logged by the server, after all of the above.
    assert answers(stub(box, "allowed.test", proto="tcp")) == [testnet.ip(20)]
    time.sleep(0.5)
    asked = testnet.queries(dns_mark)
    assert "allowed.test" in asked
    for path, name in leaks.items():
        if path != "txt":
            assert name not in asked, f"{path}: {name} reached the DNS server"
    log = testnet.dns_log.since(dns_mark)
    assert "query[TXT]" not in log and "query[MX]" not in log and "query[ANY]" not in log
    # Direct queries are logged when nothing stops them.
    control = f"control-{tok}.blocked.test"
    assert answers(testnet.control("dns", testnet.dns_ip, "53", "udp", control, "A")) == [testnet.ip(22)]
    assert control in testnet.queries(dns_mark)


def test_agent_cannot_use_dockers_resolver_directly(sandboxes, testnet):
    """127.0.0.11: the name asked is the DNS container's own, which Docker answers itself, so even a
    broken firewall would send nothing off this network."""
    box = sandboxes.open(["allowed.test"])
    assert box.cmd(f"dns 127.0.0.11 53 udp {testnet.dns_name} A") == "err EPERM"
    assert not ok(box.cmd(f"dns 127.0.0.11 53 tcp {testnet.dns_name} A"))
    assert answers(testnet.control("dns", "127.0.0.11", "53", "udp", testnet.dns_name, "A")) == [testnet.dns_ip]


def filter_rss_kb(box):
    """The DNS filter's resident memory (host /proc; the harness container's process list)."""
    out = netlib.docker("top", box.container, "-eo", "pid,comm").stdout
    pids = [line.split()[0] for line in out.splitlines()[1:] if "rustyolo-dns" in line]
    assert len(pids) == 1, out
    with open(f"/proc/{pids[0]}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@pytest.mark.parametrize("runner", ["harness"])
def test_a_tcp_client_that_never_reads_cannot_grow_the_filter(sandboxes, testnet):
    """Queries pipelined over TCP without reading a reply: the filter stops reading that client
    once 64 KiB of replies wait, so its memory stays flat and the client's writes stall. Other
    clients are still served."""
    box = sandboxes.open(["allowed.test"])
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]  # now answered from the cache
    before = filter_rss_kb(box)
    result = box.cmd("tcppipe 127.0.0.1 53 allowed.test 1000000", timeout=120)
    assert result.startswith("ok sent="), result
    sent = int(result.split("=", 1)[1])
    grown = filter_rss_kb(box) - before
    assert sent < 1000000, "the filter kept reading a client that reads nothing"
    assert grown < 8 * 1024, f"the filter grew by {grown} KiB for {sent} unread queries"
    # The twin: another client, over TCP, is answered meanwhile.
    assert answers(box.cmd("dns 127.0.0.1 53 tcp allowed.test A")) == [testnet.ip(20)]


def test_agent_sends_on_loopback_from_127_0_0_1_only(sandboxes, testnet):
    """From 127.0.0.11 (bound by the agent, e.g. on port 53) the agent could open conntrack entries
    that Docker's resolver traffic of the filter would then match as replies, skipping Docker's NAT
    and reaching the agent. Its packets on lo from any source but 127.0.0.1 are blocked."""
    box = sandboxes.open(["allowed.test"])
    assert box.cmd("udpfrom 127.0.0.11 127.0.0.1 9999") == "err EPERM"
    assert box.cmd("udpfrom 127.0.0.2 127.0.0.1 9999") == "err EPERM"
    # The twin: the same datagram from 127.0.0.1 is sent (the agent's local services).
    assert box.cmd("udpfrom 127.0.0.1 127.0.0.1 9999") == "ok sent"


@pytest.mark.parametrize("runner", ["harness"])
def test_engine_resolver_is_the_filters_upstream_and_closed_to_the_agent(sandboxes, testnet):
    """Without --dns-servers the filter forwards to Docker's 127.0.0.11 (which forwards to the test
    DNS here: docker run --dns); the agent itself can reach neither."""
    box = sandboxes.open(["allowed.test"], dns="engine")
    tok = netlib.token()
    dns_mark = testnet.dns_log.mark()
    leak_udp, leak_tcp = f"leak-{tok}-eu.blocked.test", f"leak-{tok}-et.blocked.test"
    assert box.cmd(f"dns 127.0.0.11 53 udp {leak_udp} A") == "err EPERM"
    assert not ok(box.cmd(f"dns 127.0.0.11 53 tcp {leak_tcp} A"))
    assert refused(stub(box, f"leak-{tok}-s.blocked.test"))
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    assert ok(box.cmd(f"tcp {testnet.ip(20)} 443"))
    time.sleep(0.5)
    asked = testnet.queries(dns_mark)
    assert "allowed.test" in asked, "the filter's query went through 127.0.0.11 to the test DNS"
    assert leak_udp not in asked and leak_tcp not in asked and f"leak-{tok}-s.blocked.test" not in asked


@pytest.mark.parametrize("runner", ["harness"])
def test_dns_servers_any_resolves_every_name_but_only_opens_answers(sandboxes, testnet):
    box = sandboxes.open([], dns="any")
    tok = netlib.token()
    mark = testnet.events.mark()
    assert not ok(box.cmd(f"tcp {testnet.ip(22)} 443 1500")), "not resolved yet"
    assert answers(stub(box, f"any-{tok}.blocked.test")) == [testnet.ip(22)]
    assert ok(box.cmd(f"tcp {testnet.ip(22)} 443")), "answers open 80/443"
    assert not ok(box.cmd(f"tcp {testnet.ip(22)} 8080 1500")), "but no other port"
    assert not ok(box.cmd(f"tcp {testnet.ip(28)} 443 1500")), "and no address that was not an answer"
    assert box.cmd(f"udp {testnet.ip(22)} 9999") == "err EPERM"
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(22)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(22)}:8080") == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(28)}:") == []


# ---- dynamic addresses -------------------------------------------------------------------------------

def test_a_changed_address_is_followed_within_one_session(sandboxes, testnet):
    box = sandboxes.open(["rotate.test:443"])
    mark = testnet.events.mark()
    try:
        assert answers(stub(box, "rotate.test")) == [testnet.ip(24)]
        assert box.cmd(f"tcp {testnet.ip(24)} 443") == f"ok hello from hosts {testnet.ip(24)} 443"
        assert not ok(box.cmd(f"tcp {testnet.ip(25)} 443 1500")), "the next address is not open yet"
        testnet.set_hosts(rotate=testnet.ip(25))
        testnet.reload_dns()
        # The filter serves the first answer from its cache while its TTL (1 s) lasts: after that
        # the new address is seen.
        time.sleep(1.2)
        assert answers(stub(box, "rotate.test")) == [testnet.ip(25)]
        assert box.cmd(f"tcp {testnet.ip(25)} 443") == f"ok hello from hosts {testnet.ip(25)} 443"
    finally:
        testnet.set_hosts(rotate=testnet.ip(24))
        testnet.reload_dns()
    hits = testnet.events.hits(mark, "tcp", f"{testnet.ip(25)}:443")
    assert len(hits) == 1, "only the connection after the new answer arrived"


def test_link_local_answer_stays_unreachable(sandboxes, testnet):
    box = sandboxes.open(["linklocal.test:80", "allowed.test"])
    # Route the link-local range to the test host inside the sandbox (host root, from outside),
    # so that even a broken firewall could only reach our own listener.
    netlib.nsenter(box.pid(), "ip", "route", "add", LINK_LOCAL_NET, "via", testnet.ip(20))
    mark = testnet.events.mark()
    assert answers(stub(box, "linklocal.test")) == [LINK_LOCAL_TARGET]
    assert not ok(box.cmd(f"tcp {LINK_LOCAL_TARGET} 80 1500"))
    element = netlib.nsenter(box.pid(), "nft", "get", "element", "inet", "rustyolo", "allow4",
                             f"{{ {LINK_LOCAL_TARGET} . 80 }}", check=False)
    assert element.returncode != 0, "the link-local answer must never enter the allow set"
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    assert ok(box.cmd(f"tcp {testnet.ip(20)} 443"))  # the sandbox itself works
    assert ok(testnet.control("tcp", LINK_LOCAL_TARGET, "80", route_link_local=True))  # the path exists
    assert testnet.events.wait_for(mark, "tcp", f"{LINK_LOCAL_TARGET}:80")
    sandbox_ip = box_ip(box, testnet)
    assert [e for e in testnet.events.hits(mark, "tcp", f"{LINK_LOCAL_TARGET}:") if e["peer"] == sandbox_ip] == []


# ---- the firewall itself --------------------------------------------------------------------------------

def ruleset_shape(pid):
    """Chains, rules (by comment, in order), sets and their static elements: what must not change."""
    listing = json.loads(netlib.nsenter(pid, "nft", "-j", "list", "table", "inet", "rustyolo").stdout)
    shape = []
    for item in listing["nftables"]:
        for kind in ("chain", "rule", "set"):
            if kind in item:
                o = dict(item[kind])
                o.pop("handle", None)
                if kind == "rule":
                    o.pop("expr", None)
                if kind == "set" and "timeout" in o.get("flags", []):
                    o.pop("elem", None)  # fed by DNS answers; expiries tick
                shape.append((kind, json.dumps(o, sort_keys=True)))
    return shape


def test_agent_cannot_change_the_firewall(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    pid = box.pid()
    before = ruleset_shape(pid)
    assert box.cmd("nftdel rustyolo") == "err EPERM"
    assert box.cmd("nftnew rustyolo_agent") == "err EPERM"
    assert ruleset_shape(pid) == before
    tables = netlib.nsenter(pid, "nft", "list", "tables").stdout
    assert "rustyolo_agent" not in tables
    assert not ok(box.cmd(f"tcp {testnet.ip(27)} 443 1500")), "still closed"
    # Positive control: the same netlink messages work with the privilege the agent lacks.
    probe = f"{testnet.probes_dir}/netprobe"
    assert netlib.nsenter(pid, probe, "nftnew", "rustyolo_probe").stdout.strip() == "ok"
    assert netlib.nsenter(pid, probe, "nftdel", "rustyolo_probe").stdout.strip() == "ok"


def test_sandbox_resolv_conf_points_at_the_filter(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    out = netlib.docker("exec", box.name, "cat", "/etc/resolv.conf").stdout
    assert [l for l in out.splitlines() if l.startswith("nameserver")] == ["nameserver 127.0.0.1"]
    processes = netlib.docker("top", box.name, "-o", "pid,uid,comm").stdout
    filter_lines = [l for l in processes.splitlines() if "rustyolo-dns-fi" in l]
    assert filter_lines and all(l.split()[1] == "65533" for l in filter_lines), processes
