"""--firewall iptables: the seed's static mechanism (kernels without nftables), on the same hermetic
network. Names are resolved once at start; the DNS filter still guards the names."""
import re
import time

import netlib
from test_flow_class import assert_allowed_tcp_and_kernel_packets_work, flow_class_records, reuse_the_filters_flow
from test_network import answers, box_ip, ok, refused, stub


def open_iptables(sandboxes, allow):
    return sandboxes.open(allow, firewall="iptables")


def test_allowed_name_is_reachable_and_everything_else_is_not(sandboxes, testnet):
    box = open_iptables(sandboxes, ["allowed.test"])
    name = f"{netlib.token()}.blocked.test"
    dns_mark, mark = testnet.dns_log.mark(), testnet.events.mark()
    assert refused(stub(box, name))
    assert not ok(box.cmd(f"tcp {testnet.ip(22)} 443 1500")), "raw IP"
    assert not ok(box.cmd(f"tcp {testnet.ip(20)} 8080 1500")), "wrong port"
    assert box.cmd(f"udp {testnet.ip(20)} 9999") == "err EPERM"
    assert box.cmd(f"icmp {testnet.ip(20)}") == "err EPERM"
    assert not ok(box.cmd(f"tcp {testnet.ip6(20)} 443 1500")), "IPv6"
    # The address was opened at start: reachable even before the agent looks the name up.
    assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert box.cmd(f"tcp {testnet.ip(20)} 80") == f"ok hello from hosts {testnet.ip(20)} 80"
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(20)}:80")
    sandbox_ip = box_ip(box, testnet)
    arrived = {(e["proto"], e["local"]) for e in testnet.events.entries(mark) if e["peer"] == sandbox_ip}
    assert arrived == {("tcp", f"{testnet.ip(20)}:443"), ("tcp", f"{testnet.ip(20)}:80")}
    assert name not in testnet.queries(dns_mark)
    assert ok(testnet.control("tcp", testnet.ip(22), "443")), "the negative paths are open without the sandbox"


def test_no_query_for_a_name_that_is_not_allowed_leaves(sandboxes, testnet):
    box = open_iptables(sandboxes, ["allowed.test"])
    tok = netlib.token()
    dns_mark = testnet.dns_log.mark()
    names = [f"leak-{tok}-{n}.blocked.test" for n in ("su", "st", "du", "dt")]
    assert refused(stub(box, names[0]))
    assert refused(stub(box, names[1], proto="tcp"))
    assert box.cmd(f"dns {testnet.dns_ip} 53 udp {names[2]} A") == "err EPERM"
    assert not ok(box.cmd(f"dns {testnet.dns_ip} 53 tcp {names[3]} A"))
    assert refused(stub(box, f"leak-{tok}.allowed.test"))
    assert answers(stub(box, "allowed.test", proto="tcp")) == [testnet.ip(20)]
    time.sleep(0.5)
    asked = testnet.queries(dns_mark)
    assert "allowed.test" in asked
    assert not [n for n in names + [f"leak-{tok}.allowed.test"] if n in asked]


def test_addresses_are_fixed_at_start(sandboxes, testnet):
    """The seed's limit, kept on purpose in this mode: a changed address is not followed."""
    box = open_iptables(sandboxes, ["rotate.test:443"])
    try:
        assert ok(box.cmd(f"tcp {testnet.ip(24)} 443"))
        testnet.set_hosts(rotate=testnet.ip(25))
        testnet.reload_dns()
        assert answers(stub(box, "rotate.test")) == [testnet.ip(25)]
        assert not ok(box.cmd(f"tcp {testnet.ip(25)} 443 1500"))
    finally:
        testnet.set_hosts(rotate=testnet.ip(24))
        testnet.reload_dns()


def test_agent_cannot_change_the_firewall(sandboxes, testnet):
    box = open_iptables(sandboxes, ["allowed.test"])
    pid = box.pid()
    before = netlib.nsenter(pid, "iptables-save", "-t", "filter").stdout
    for family in ("ip", "ip6", "inet"):
        assert box.cmd(f"nftdel filter {family}") == "err EPERM"
    assert "-P OUTPUT DROP" in before or ":OUTPUT DROP" in before
    after = netlib.nsenter(pid, "iptables-save", "-t", "filter").stdout
    def strip(text):  # comments and packet counters change; the rules must not
        return [re.sub(r"\[\d+:\d+\]", "", l) for l in text.splitlines() if not l.startswith("#")]

    assert strip(after) == strip(before)
    assert not ok(box.cmd(f"tcp {testnet.ip(27)} 443 1500"))


def test_agent_cannot_continue_the_filters_closed_upstream_flow(sandboxes, testnet):
    """The flow-class rules (CONNMARK + owner) of this mode: see test_flow_class.py."""
    box = sandboxes.open(["*.wild.test", "allowed.test"], firewall="iptables")  # wildcards open no address here
    attack = reuse_the_filters_flow(box, testnet, f"{testnet.dns_ip}:53", testnet.dns_ip, 53)
    assert attack == "err EPERM"
    assert_allowed_tcp_and_kernel_packets_work(box, testnet, testnet.ip(20))
    if sandboxes.runner == "harness":
        found = flow_class_records(box)
        assert [(d["destination"], d["port"], d["protocol"], d["uid"]) for d in found] == [
            (testnet.dns_ip, 53, "udp", 1000)], found
