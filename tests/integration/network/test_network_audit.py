"""Blocked packets as audit records (docs/audit-schema.md: layer network, events packet and lost),
tested for real: the firewall logs every drop to the supervisor's NFLOG reader, which reports one
record per packet. The net-harness prints each record as an `audit: {json}` line on stderr.

Exact counts: each probe sends exactly one packet (a UDP datagram, one ICMP echo, or a TCP connect
given up after 300 ms, before the SYN's first retransmit at 1 s; TCP attempts are still counted by
their distinct source port), and the firewall's own drop counters (read from the container's
network namespace) must grow by exactly the number of records. Every negative is paired with a
positive control that is allowed, arrives at the test host and produces no record.
"""
import json
import os
import re
import time

import pytest

import netlib
from netlib import LINK_LOCAL_TARGET
from test_network import answers, box_ip, ok, stub

pytestmark = pytest.mark.parametrize("runner", ["harness"])  # the harness prints the records

PROBE_TIMEOUT_MS = 300


def name_lookup_available():
    """True once the feeder offers the name an address was resolved from (Feeder::name_for): then
    every record for an address of an allowed name must carry that name."""
    with open(os.path.join(netlib.REPO, "plugins", "net-nftables", "feeder.hpp")) as f:
        return "name_for" in f.read()


def records(box, event="packet"):
    out = []
    for line in box.stderr().splitlines():
        if line.startswith("audit: "):
            record = json.loads(line[len("audit: "):])
            if record.get("layer") == "network" and record.get("event") == event:
                out.append(record)
    return out


def wait_records(box, count, timeout=5.0):
    """The packet records once there are at least `count`, after a short settle (no more come)."""
    deadline = time.time() + timeout
    while time.time() < deadline and len(records(box)) < count:
        time.sleep(0.05)
    time.sleep(0.3)
    return records(box)


def drop_counter(box, firewall="nftables"):
    """The firewall's drop counters, read from the container's network namespace by host root."""
    pid = box.pid()
    total = 0
    if firewall == "nftables":
        for chain in ("blocked_output", "blocked_guard", "blocked_input", "blocked_flow_class"):
            listing = json.loads(netlib.nsenter(pid, "nft", "-j", "list", "chain", "inet", "rustyolo", chain).stdout)
            for item in listing["nftables"]:
                for statement in item.get("rule", {}).get("expr", []):
                    if "counter" in statement:
                        total += statement["counter"]["packets"]
    else:
        for save in ("iptables-save", "ip6tables-save"):
            for line in netlib.nsenter(pid, save, "-c", "-t", "filter").stdout.splitlines():
                m = re.match(r"\[(\d+):\d+\] -A RUSTYOLO_BLOCKED_\w+ .*-j NFLOG", line)
                if m:
                    total += int(m.group(1))
    return total


class Exact:
    """Records produced by the probes in a `with` block, checked against the firewall's counters."""

    def __init__(self, box, firewall="nftables"):
        self.box = box
        self.firewall = firewall

    def __enter__(self):
        # A consistent starting point: the counters did not move while the records of what they
        # had counted arrived (the kernel's own packets, such as IPv6 MLD reports, come at any time).
        time.sleep(0.3)
        for _ in range(50):
            counted = drop_counter(self.box, self.firewall)
            time.sleep(0.2)
            before = len(records(self.box))
            if drop_counter(self.box, self.firewall) == counted:
                break
        else:
            raise AssertionError("the firewall's drop counters never stood still for 0.2 s")
        self.before, self.counted_before = before, counted
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            counted = drop_counter(self.box, self.firewall) - self.counted_before
            self.new = wait_records(self.box, self.before + counted)[self.before:]
            assert len(self.new) == counted, (f"the firewall dropped {counted} packets but {len(self.new)} records "
                                              f"came: {self.new}")
        return False


def only(found, what):
    assert len(found) == 1, f"expected exactly one record for {what}, got {found}"
    return found[0]["details"]


def matching(recs, **fields):
    return [r for r in recs if all(r["details"].get(k) == v for k, v in fields.items())]


def tcp_attempts(recs, destination, port):
    """Distinct connection attempts (source ports) among the records for destination:port."""
    return {r["details"]["source_port"] for r in matching(recs, protocol="tcp", destination=destination, port=port)}


def test_each_blocked_packet_is_one_record_with_its_rule(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    sandbox_ip = box_ip(box, testnet)
    events_mark = testnet.events.mark()
    with Exact(box) as exact:
        assert box.cmd(f"udp {testnet.ip(20)} 9999") == "err EPERM"
        assert box.cmd(f"icmp {testnet.ip(20)}") == "err EPERM"
        assert not ok(box.cmd(f"tcp {testnet.ip(22)} 443 {PROBE_TIMEOUT_MS}")), "raw IP"
        assert not ok(box.cmd(f"tcp {testnet.ip(20)} 8080 {PROBE_TIMEOUT_MS}")), "allowed name, wrong port"
        assert box.cmd(f"udp {LINK_LOCAL_TARGET} 9999") == "err EPERM"  # the guard (metadata range)
        # Positive control: allowed, arrives, no record.
        assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert testnet.events.wait_for(events_mark, "tcp", f"{testnet.ip(20)}:443")
    recs = exact.new
    name = "allowed.test" if name_lookup_available() else None

    udp = only(matching(recs, protocol="udp", destination=testnet.ip(20)), "the UDP datagram")
    assert udp == {"protocol": "udp", "family": 4, "direction": "out", "destination": testnet.ip(20), "port": 9999,
                   "source": sandbox_ip, "source_port": udp["source_port"], "name": name, "uid": 1000,
                   "rule": "blocked_output"}
    assert isinstance(udp["source_port"], int) and udp["source_port"] > 0
    assert all(r["layer"] == "network" and r["verdict"] == "block" and r["event"] == "packet" for r in recs)

    icmp = only(matching(recs, protocol="icmp"), "the ICMP echo")
    assert (icmp["destination"], icmp["port"], icmp["source_port"], icmp["rule"], icmp["uid"]) == \
        (testnet.ip(20), None, None, "blocked_output", 1000)

    assert len(tcp_attempts(recs, testnet.ip(22), 443)) == 1
    raw = matching(recs, protocol="tcp", destination=testnet.ip(22))[0]["details"]
    assert (raw["name"], raw["rule"], raw["direction"], raw["source"]) == (None, "blocked_output", "out", sandbox_ip)

    assert len(tcp_attempts(recs, testnet.ip(20), 8080)) == 1
    wrong_port = matching(recs, protocol="tcp", destination=testnet.ip(20), port=8080)[0]["details"]
    assert wrong_port["name"] == name

    guard = only(matching(recs, destination=LINK_LOCAL_TARGET), "the link-local datagram")
    assert (guard["rule"], guard["protocol"], guard["port"]) == ("blocked_guard", "udp", 9999)

    # The allowed connection: no record at all.
    assert matching(recs, destination=testnet.ip(20), port=443) == []
    # Nothing else: TCP only for the two refused connections, three other packets.
    assert {(r["details"]["destination"], r["details"]["port"]) for r in matching(recs, protocol="tcp")} == \
        {(testnet.ip(22), 443), (testnet.ip(20), 8080)}
    assert len([r for r in recs if r["details"]["protocol"] != "tcp"]) == 3, recs

    box.close()  # the harness calls destroy(): the final accounting finds nothing lost
    assert records(box, "lost") == []
    assert "packet audit: " in box.stderr() and " 0 lost" in box.stderr()


def test_drops_right_before_the_end_are_reported_not_lost(sandboxes, testnet):
    """The kernel holds log messages back for up to its flush timer: the end of the session must
    still report the last drops, not count them as lost."""
    box = sandboxes.open(["allowed.test"])
    assert box.cmd(f"udp {testnet.ip(20)} 9998") == "err EPERM"  # the probe works, and is blocked
    # Three datagrams and the agent's exit in one write: the session ends within a millisecond or
    # two of the last drop, well inside the kernel's flush timer.
    box.proc.stdin.write(f"udpflood {testnet.ip(20)} 9999 3\nexit\n")
    box.proc.stdin.flush()
    box.close()
    udp = [r["details"]["port"] for r in matching(records(box), protocol="udp", destination=testnet.ip(20))]
    assert sorted(udp) == [9998, 9999, 9999, 9999], records(box)
    assert records(box, "lost") == []
    assert "packet audit: " in box.stderr() and " 0 lost" in box.stderr()


def test_the_self_tests_probes_are_not_reported_but_the_agents_are(sandboxes, testnet):
    """The self-test sends a datagram to 127.0.0.11:53 as the agent's uid with the probe group
    (65532) before the agent exists (dropped by the guard): no record. The agent cannot take that
    group, and the same datagram from it is a record."""
    # The twin: where a process may change its group (root, Docker's default capabilities), the
    # probe's setgid does it.
    assert testnet.control("setgid", "65532", user="0:0") == "ok gid=65532"
    box = sandboxes.open(["allowed.test"])
    time.sleep(0.5)
    assert matching(records(box), destination="127.0.0.11") == []
    assert "self_test (" in box.stderr()
    assert box.cmd("setgid 65532") == "err EPERM"
    assert box.cmd("id") == "ok uid=1000 gid=1000"
    with Exact(box) as exact:
        assert box.cmd("udp 127.0.0.11 53") == "err EPERM"
    agent = only(matching(exact.new, destination="127.0.0.11"), "the agent's datagram")
    assert (agent["rule"], agent["uid"], agent["protocol"]) == ("blocked_guard", 1000, "udp")


def test_ipv6_packets_are_family_6_records(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"], ipv6=True)
    events_mark = testnet.events.mark()
    with Exact(box) as exact:
        assert box.cmd(f"udp {testnet.ip6(20)} 9999") == "err EPERM"
        assert not ok(box.cmd(f"tcp {testnet.ip6(21)} 443 {PROBE_TIMEOUT_MS}"))
        assert answers(stub(box, "allowed.test", "AAAA")) == [testnet.ip6(20)]
        assert box.cmd(f"tcp {testnet.ip6(20)} 443") == f"ok hello from hosts {testnet.ip6(20)} 443"
    assert testnet.events.wait_for(events_mark, "tcp", f"{testnet.ip6(20)}:443")
    udp = only(matching(exact.new, protocol="udp", destination=testnet.ip6(20)), "the IPv6 datagram")
    assert (udp["family"], udp["port"], udp["rule"], udp["uid"]) == (6, 9999, "blocked_output", 1000)
    assert len(tcp_attempts(exact.new, testnet.ip6(21), 443)) == 1
    assert all(r["details"]["family"] == 6 for r in matching(exact.new, protocol="tcp"))
    assert matching(exact.new, destination=testnet.ip6(20), port=443) == []


def test_inbound_packets_are_blocked_input_records(sandboxes, testnet):
    """A connection attempt from the network to the sandbox: dropped on input, reported as "in"."""
    box = sandboxes.open(["allowed.test"])
    sandbox_ip = box_ip(box, testnet)
    with Exact(box) as exact:
        result = testnet.control("udp", sandbox_ip, "7777")
        assert result == "noreply", result
    inbound = only(matching(exact.new, destination=sandbox_ip, port=7777), "the inbound datagram")
    assert (inbound["direction"], inbound["rule"], inbound["protocol"], inbound["uid"]) == \
        ("in", "blocked_input", "udp", None)


def test_iptables_blocked_packets_are_records_too(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"], firewall="iptables")
    sandbox_ip = box_ip(box, testnet)
    events_mark = testnet.events.mark()
    with Exact(box, "iptables") as exact:
        assert box.cmd(f"udp {testnet.ip(20)} 9999") == "err EPERM"
        assert box.cmd(f"icmp {testnet.ip(20)}") == "err EPERM"
        assert box.cmd(f"udp {LINK_LOCAL_TARGET} 9999") == "err EPERM"
        assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert testnet.events.wait_for(events_mark, "tcp", f"{testnet.ip(20)}:443")
    udp = only(matching(exact.new, protocol="udp", destination=testnet.ip(20)), "the UDP datagram")
    assert (udp["family"], udp["direction"], udp["port"], udp["source"], udp["uid"], udp["rule"]) == \
        (4, "out", 9999, sandbox_ip, 1000, "blocked_output")
    assert only(matching(exact.new, protocol="icmp"), "the ICMP echo")["rule"] == "blocked_output"
    assert only(matching(exact.new, destination=LINK_LOCAL_TARGET), "the guard")["rule"] == "blocked_guard"
    assert matching(exact.new, port=443) == []
    box.close()
    assert records(box, "lost") == []
