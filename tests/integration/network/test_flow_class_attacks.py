"""Attacks on "flows keep their class" (docs/security-model.md), each with its positive twin.

Held: the engine resolver's (root) closed forwarding flow, the filter's closed flow over IPv6, the
reply direction (the agent answering the filter's query to an un-NATed 127.0.0.11:53), each with
nftables and iptables; sockets of families the firewall never sees (AF_VSOCK, and AF_RXRPC, AF_SMC,
RDS, whose kernel-internal sockets send without an owner uid): the seccomp filter's address-family
allowlist refuses them with EAFNOSUPPORT (before it, the AF_VSOCK socket was made).

Packets go only to the test network's hosts and to this container's loopback; the vsock case only
creates a socket.
"""
import re
import time

import pytest

import netlib
from test_network import answers, stub
from test_flow_class import flow_class_records

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_VSOCK, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 10, 16, 40, 1, 2, 3
# Families whose sockets the firewall cannot see or class: (family, type, protocol).
UNSEEN_FAMILIES = {"AF_VSOCK": (40, SOCK_STREAM, 0), "AF_RDS": (21, 5, 0), "AF_RXRPC": (33, SOCK_DGRAM, 2),
                   "AF_SMC": (43, SOCK_STREAM, 0), "AF_PACKET": (17, SOCK_DGRAM, 0), "AF_ALG": (38, 5, 0)}


def conntrack(box):
    """The container's conntrack table, read from the host (the agent cannot read it)."""
    return netlib.nsenter(box.pid(), "cat", "/proc/net/nf_conntrack").stdout.splitlines()


def closed_root_forwarding_flows(box, testnet):
    """udp flows the engine's resolver (root, in this namespace) opened from the sandbox's address to
    the test DNS server: (source address, source port, mark)."""
    found = []
    for line in conntrack(box):
        if " udp " not in f" {line} ":
            continue
        src = re.search(r"src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)", line)
        mark = re.search(r"mark=(\d+)", line)
        if src and src.group(2) == testnet.dns_ip and src.group(4) == "53" and src.group(1) != "127.0.0.1":
            found.append((src.group(1), int(src.group(3)), int(mark.group(1)) if mark else -1))
    return found


@pytest.mark.parametrize("runner", ["harness"])
@pytest.mark.parametrize("firewall", ["nftables", "iptables"])
def test_agent_cannot_continue_the_engine_resolvers_closed_forwarding_flow(sandboxes, testnet, firewall):
    """Docker's resolver (root, in the sandbox's namespace) forwards the filter's query for an
    allowed name to the test DNS server from the sandbox's own address and closes that socket. The
    agent binds the same address and port and sends any query to the same server: the root class's
    flow must not carry it."""
    box = sandboxes.open(["*.wild.test"], dns="engine", firewall=firewall)
    tok = netlib.token()
    assert answers(stub(box, f"fwd-{tok}.wild.test")) == [testnet.ip(21)]
    flows = closed_root_forwarding_flows(box, testnet)
    assert flows, "the engine's resolver forwarded from the sandbox's namespace"
    address, port, mark = flows[-1]
    assert mark == 3, f"a flow of the engine's resolver is root's class: {flows}"
    leak = f"leak-{netlib.token()}.blocked.test"
    dns_mark = testnet.dns_log.mark()
    attack = box.cmd(f"dnsfrom {address} {port} {testnet.dns_ip} 53 {leak} TXT")
    twin = f"twin-{netlib.token()}.wild.test"
    assert answers(stub(box, twin)) == [testnet.ip(21)]
    time.sleep(0.5)
    asked = testnet.queries(dns_mark)
    assert twin in asked
    assert leak not in asked, f"the agent's query on root's flow {address}:{port} reached the server: {attack}"
    assert attack == "err EPERM"
    found = flow_class_records(box)
    assert [(d["destination"], d["port"], d["uid"]) for d in found] == [(testnet.dns_ip, 53, 1000)], found


@pytest.mark.parametrize("runner", ["cli"])
def test_agent_has_no_network_path_the_firewall_does_not_see(sandboxes, testnet):
    """AF_VSOCK is not IP: no netfilter hook sees it, and (on kernels without vsock namespaces)
    it is not bound to the container's network namespace. Where the engine runs in a VM (Docker
    Desktop, WSL2, Firecracker hosts) it reaches the hypervisor side's services past every rule of
    the firewall. The seccomp filter lets the agent create such sockets (Docker 20.10's default
    profile, which rustyolo's builds on, allows socket() for every family). Only the socket is
    created here: nothing is connected or sent, since the only peer would be this machine's own
    hypervisor. Twin: an AF_INET socket is created."""
    box = sandboxes.open(["allowed.test"])
    assert box.cmd(f"socket {AF_INET} {SOCK_STREAM} 0") == "ok", "twin: the agent may make IP sockets"
    assert box.cmd(f"socket {AF_VSOCK} {SOCK_STREAM} 0") in ("err EPERM", "err EAFNOSUPPORT", "err EACCES")
    # The allowlist's answer for every other family, whether or not this kernel has it; twins: the
    # families the agent's tools need.
    for name, (family, kind, protocol) in UNSEEN_FAMILIES.items():
        assert box.cmd(f"socket {family} {kind} {protocol}") == "err EAFNOSUPPORT", name
    for family, kind in ((AF_UNIX, SOCK_STREAM), (AF_INET6, SOCK_DGRAM), (AF_NETLINK, SOCK_RAW)):
        assert box.cmd(f"socket {family} {kind} 0") == "ok", family


def filter_udp6_sources(box, server6):
    """Local [ADDR]:PORT of the filter's (uid 65533) connected UDP sockets to [server6]:53, from
    /proc/net/udp6 of the sandbox's namespace (read from the host)."""
    import ipaddress
    import struct
    out = []
    for line in netlib.nsenter(box.pid(), "cat", "/proc/net/udp6").stdout.splitlines()[1:]:
        f = line.split()
        local, remote, uid = f[1], f[2], int(f[7])
        if uid != 65533:
            continue

        def addr(text):
            hexaddr, port = text.split(":")
            raw = bytes.fromhex(hexaddr)
            words = struct.unpack("<4I", raw)
            return str(ipaddress.IPv6Address(struct.pack(">4I", *words))), int(port, 16)

        (laddr, lport), (raddr, rport) = addr(local), addr(remote)
        if raddr == server6 and rport == 53:
            out.append((laddr, lport))
    return out


@pytest.mark.parametrize("runner", ["harness"])
@pytest.mark.parametrize("firewall", ["nftables", "iptables"])
def test_agent_cannot_continue_the_filters_closed_upstream_flow_over_ipv6(sandboxes, testnet, firewall):
    """The attack of test_flow_class.py with an IPv6 upstream (IPv6 switched on)."""
    server6 = testnet.ip6(53)
    box = sandboxes.open(["*.wild.test"], dns=server6, ipv6=True, firewall=firewall)
    tok = netlib.token()
    assert answers(stub(box, f"pool6-0-{tok}.wild.test")) == [testnet.ip(21)]
    sources = filter_udp6_sources(box, server6)
    assert len(sources) == 1, sources
    for n in range(1, 100):
        assert answers(stub(box, f"pool6-{n}-{tok}.wild.test")) == [testnet.ip(21)]
    assert sources[0] not in filter_udp6_sources(box, server6), "the filter's socket was not closed"
    address, port = sources[0]
    leak = f"leak6-{netlib.token()}.blocked.test"
    dns_mark = testnet.dns_log.mark()
    attack = box.cmd(f"dnsfrom {address} {port} {server6} 53 {leak} TXT")
    twin = f"twin6-{netlib.token()}.wild.test"
    assert answers(stub(box, twin)) == [testnet.ip(21)]
    time.sleep(0.5)
    asked = testnet.queries(dns_mark)
    assert twin in asked
    assert leak not in asked, f"the agent's query on the filter's flow [{address}]:{port} arrived: {attack}"
    assert attack == "err EPERM"


@pytest.mark.parametrize("runner", ["harness"])
@pytest.mark.parametrize("firewall", ["nftables", "iptables"])
def test_agent_cannot_answer_the_filters_query_to_a_loopback_upstream(sandboxes, testnet, firewall):
    """The reply direction. Where nothing DNATs 127.0.0.11:53 (an engine without the embedded
    resolver; simulated by flushing Docker's DOCKER_OUTPUT chain), the filter's upstream queries go
    to 127.0.0.11:53 itself, which any uid may bind. The agent binds it, receives the filter's query
    for an allowed name and answers with an address of its choice (the blocked host): its answer is
    the reply direction of the filter's flow and must be dropped, so the address never reaches the
    allow set."""
    box = sandboxes.open(["*.wild.test"], dns="engine", firewall=firewall)
    assert answers(stub(box, f"before-{netlib.token()}.wild.test")) == [testnet.ip(21)], "twin: through Docker"
    netlib.nsenter(box.pid(), "nft", "flush", "chain", "ip", "nat", "DOCKER_OUTPUT")
    forged = testnet.ip(22)
    assert box.cmd(f"dnsanswer 127.0.0.11 53 {forged} 20000") == "ok"
    # The filter's pooled socket keeps its (DNATed) flow for up to 100 queries; the next socket's
    # flow is new and goes to 127.0.0.11:53 itself.
    tok = netlib.token()
    for n in range(101):
        result = stub(box, f"forge-{n}-{tok}.wild.test")
        if not result.startswith("ok rcode=0") or answers(result) != [testnet.ip(21)]:
            break
    served = box.cmd("dnsanswerwait", timeout=30)
    got = int(served.split("got=")[1].split()[0])
    assert got >= 1, f"twin: the filter's query reached the agent's socket on 127.0.0.11:53 ({served})"
    assert forged not in result, f"the agent's forged answer reached the filter: {result} ({served})"
    assert served.endswith("sent=0 err=EPERM"), served
    mark = testnet.events.mark()
    assert box.cmd(f"tcp {forged} 443 1500").startswith("err")
    time.sleep(0.5)
    assert not testnet.events.hits(mark, "tcp", f"{forged}:443")
    found = flow_class_records(box)
    assert found and all(d["uid"] == 1000 and d["protocol"] == "udp" for d in found), found
