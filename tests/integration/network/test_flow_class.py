"""Flows keep their class (docs/security-model.md): a conntrack flow opened by one class of socket
(the DNS filter, root, the agent, ...) cannot be continued by another.

The attack: the DNS filter reuses a connected UDP socket for up to 100 upstream queries, then closes
it. Its conntrack entry lives on (30-120 s). The agent reads /proc/net/udp, binds the same address
and port and sends a query of its own to the upstream resolver: without the flow-class rules the
datagram matches the filter's flow and passes as "established", past the rule that lets only the
filter's uid reach the upstream. "Blocked" is judged by the test DNS server's log: the agent's
query never arrived. Each attack has its positive twin: an allowed name through the filter still
resolves and reaches the server, allowed TCP connections work, and the kernel's own packets (the
RST for a closed port, the FIN/ACK exchange of the agent's own local service) still pass.

Packets go only to the test network's DNS server (the upstream) and to this container's loopback.
"""
import time

import pytest

import netlib
from test_network import answers, stub
from test_network_audit import records

FILTER_UID = 65533
POOLED_QUERIES = 100  # plugins/dns-filter/server.cc: max_socket_uses


def filter_sockets(box, upstream):
    """The filter's connected UDP sockets to `upstream` (ADDR:PORT), as the agent sees them."""
    result = box.cmd(f"udpsocks {FILTER_UID}")
    assert result.startswith("ok "), result
    listed = result[3:]
    entries = [] if listed == "-" else listed.split(",")
    return [local for local, remote in (e.split(">") for e in entries) if remote == upstream]


def make_the_filter_close_an_upstream_socket(box, testnet, upstream):
    """Drives the filter's real pooling: unique names under the allowed *.wild.test, each one a
    cache miss asked upstream on the same pooled socket, until it has served its 100 queries and is
    closed. Returns the ADDR:PORT the closed socket was bound to."""
    tok = netlib.token()
    assert answers(stub(box, f"pool-0-{tok}.wild.test")) == [testnet.ip(21)]
    sockets = filter_sockets(box, upstream)
    assert len(sockets) == 1, f"expected one pooled socket of the filter to {upstream}: {sockets}"
    source = sockets[0]
    for n in range(1, POOLED_QUERIES):
        assert answers(stub(box, f"pool-{n}-{tok}.wild.test")) == [testnet.ip(21)]
    assert source not in filter_sockets(box, upstream), "the filter's socket was not closed after 100 queries"
    return source


def reuse_the_filters_flow(box, testnet, upstream, server, port):
    """The attack and its twins. Returns the agent's result for the query it sent on the filter's
    flow."""
    source = make_the_filter_close_an_upstream_socket(box, testnet, upstream)
    address, source_port = source.rsplit(":", 1)
    leak = f"leak-{netlib.token()}.blocked.test"
    dns_mark = testnet.dns_log.mark()
    attack = box.cmd(f"dnsfrom {address} {source_port} {server} {port} {leak} TXT")
    # Twin: the filter still resolves an allowed name, and its query reaches the server.
    twin = f"twin-{netlib.token()}.wild.test"
    assert answers(stub(box, twin)) == [testnet.ip(21)]
    time.sleep(0.5)
    asked = testnet.queries(dns_mark)
    assert twin in asked, "the positive twin's query must reach the test DNS server"
    assert leak not in asked, (f"the agent's query on the filter's closed flow ({source} -> {upstream}) "
                               f"reached the DNS server: {attack}")
    return attack


def assert_allowed_tcp_and_kernel_packets_work(box, testnet, host):
    mark = testnet.events.mark()
    assert box.cmd(f"tcp {host} 443") == f"ok hello from hosts {host} 443"
    assert box.cmd(f"tcp {host} 80") == f"ok hello from hosts {host} 80"
    assert testnet.events.wait_for(mark, "tcp", f"{host}:443") and testnet.events.wait_for(mark, "tcp", f"{host}:80")
    # The kernel's RST for a closed local port has no socket: it must still arrive (a dropped RST
    # would turn the refusal into a timeout).
    assert box.cmd("tcp 127.0.0.1 9 1500") == "err ECONNREFUSED"
    # The agent's own local service: its listener answers the flow the agent opened (reply
    # direction, the agent's class); closing and reopening the same port works.
    assert box.cmd("tcpself 8765") == "ok hello from the agent itself"
    assert box.cmd("tcpself 8765") == "ok hello from the agent itself"


def flow_class_records(box):
    return [r["details"] for r in records(box) if r["details"]["rule"] == "blocked_flow_class"]


def test_agent_cannot_continue_the_filters_closed_upstream_flow(sandboxes, testnet):
    box = sandboxes.open(["*.wild.test"])
    attack = reuse_the_filters_flow(box, testnet, f"{testnet.dns_ip}:53", testnet.dns_ip, 53)
    assert attack == "err EPERM", "the firewall drops the datagram on this host"
    assert_allowed_tcp_and_kernel_packets_work(box, testnet, testnet.ip(21))
    if sandboxes.runner == "harness":  # the harness prints the audit records
        found = flow_class_records(box)
        assert [(d["destination"], d["port"], d["protocol"], d["uid"]) for d in found] == [
            (testnet.dns_ip, 53, "udp", 1000)], found


@pytest.mark.parametrize("runner", ["harness"])
def test_agent_cannot_continue_the_filters_closed_flow_to_dockers_resolver(sandboxes, testnet):
    """Through 127.0.0.11: the filter's flow 127.0.0.1:P -> 127.0.0.11:53 is DNATed to Docker's
    resolver, which forwards any name to the test DNS server (docker run --dns)."""
    box = sandboxes.open(["*.wild.test"], dns="engine")
    attack = reuse_the_filters_flow(box, testnet, "127.0.0.11:53", "127.0.0.11", 53)
    assert attack == "err EPERM"
    assert_allowed_tcp_and_kernel_packets_work(box, testnet, testnet.ip(21))
    # Logged after Docker's DNAT: the destination port is its resolver's own.
    found = flow_class_records(box)
    assert [(d["destination"], d["protocol"], d["uid"]) for d in found] == [("127.0.0.11", "udp", 1000)], found
