"""The agent learns at once that something is blocked, and why: a name that is not allowed is
NXDOMAIN (not found: clients do not retry), with an Extended DNS Error naming the reason and the
command that allows it when the query carries EDNS; a blocked connection is refused (TCP reset,
ICMP administratively prohibited for UDP), IPv4 and IPv6, and still one audit record per packet.

Outcomes only, no timings: a refusal is told apart from a drop by what the client gets (a drop
gives a timeout, `err ETIMEDOUT` / `noreply`), never by how long it took. The time to failure is a
benchmark (`tests/bench/bench.py failfast`). Every negative has an allowed twin, and "blocked" is
judged by the test hosts' logs."""
import glob
import json
import os
import subprocess

import pytest

import netlib
from netlib import LINK_LOCAL_TARGET
from test_network import answers, stub
from test_network_audit import Exact, matching, only, tcp_attempts


def ede(result):
    """(rcode, aa, ede code, text) of a `dnsede` result."""
    assert result.startswith("ok rcode="), result
    head, text = result.split(" text=", 1)
    fields = dict(word.split("=", 1) for word in head.split()[1:])
    return int(fields["rcode"]), fields["aa"] == "1", fields["ede"], text


def test_a_refused_name_is_nxdomain_and_its_extended_error_names_the_command(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    name = f"{netlib.token()}.blocked.test"
    dns_mark = testnet.dns_log.mark()
    for proto in ("udp", "tcp"):
        rcode, aa, code, text = ede(box.cmd(f"dnsede 127.0.0.1 53 {proto} {name} A"))
        assert (rcode, aa, code) == (3, True, "15"), (proto, rcode, aa, code)
        assert text == f"rustyolo sandbox: {name} is not in the allow list; ask the user to run: rustyolo allow {name}"
    # Without EDNS: a plain NXDOMAIN.
    assert box.cmd(f"dns 127.0.0.1 53 udp {name} AAAA").startswith("ok rcode=3 tc=0 an=-")
    # A type the filter does not forward, of an allowed name: no records of that type (NODATA),
    # and the reason.
    rcode, aa, code, text = ede(box.cmd("dnsede 127.0.0.1 53 udp allowed.test TXT"))
    assert (rcode, aa, code) == (0, True, "15")
    assert text == "rustyolo sandbox: only A, AAAA and CNAME queries are forwarded (this one: TXT)"
    # Twin: the allowed name and type are answered from upstream, with no extended error.
    result = box.cmd("dnsede 127.0.0.1 53 udp allowed.test A")
    assert answers(result.split(" aa=", 1)[0]) == [testnet.ip(20)]
    assert ede(result)[2:] == ("-", "")
    # Nothing of the refused name left the sandbox.
    asked = testnet.queries(dns_mark)
    assert name not in asked and "allowed.test" in asked


def test_a_refused_name_that_no_name_entry_can_name_suggests_no_command(sandboxes, testnet):
    """The suggested `rustyolo allow NAME` is a command that allows that name. A name spelt like an
    address would be a CIDR entry (the raw address, on the sandbox's word that it is a name); a
    single label or '_' would make the command fail."""
    box = sandboxes.open(["allowed.test"])
    token = netlib.token()
    dns_mark = testnet.dns_log.mark()
    for name in ("1.2.3.4", "10.0.0.1", token, f"_{token}.blocked.test"):
        rcode, aa, code, text = ede(box.cmd(f"dnsede 127.0.0.1 53 udp {name} A"))
        assert (rcode, aa, code) == (3, True, "15"), (name, rcode, aa, code)
        assert "rustyolo allow" not in text, (name, text)
        assert text.startswith(f"rustyolo sandbox: {name} is not in the allow list and cannot be named"), text
    # Twin: a host name gets the command.
    name = f"{token}.blocked.test"
    assert ede(box.cmd(f"dnsede 127.0.0.1 53 udp {name} A"))[3].endswith(f"rustyolo allow {name}")
    assert token not in testnet.queries(dns_mark)


def test_a_node_lookup_of_a_refused_name_fails_once_with_enotfound(rustyolo_bin, testnet, project_dir, tmp_path):
    """Node's dns.lookup (glibc's getaddrinfo) reports ENOTFOUND on the first answer: one query per
    address type reaches the filter (its audit records count them), none is retried. (REFUSED would be
    EAI_AGAIN, which glibc itself retries and npm retries again.)"""
    image = os.environ.get("RUSTYOLO_IMAGE", "rustyolo:latest")
    if not netlib.image_exists(image):
        pytest.skip(f"the sandbox image {image} does not exist: build it with `rustyolo image build` first")
    state = str(tmp_path / "state")
    os.makedirs(state)
    name = f"{netlib.token()}.blocked.test"
    # The refused name with Node's defaults (A and AAAA); the twin asks for IPv4 only, so that the
    # answer does not depend on address sorting.
    script = ("const dns = require('dns');"
              "const look = (n, options, next) => dns.lookup(n, options, (e, a) => {"
              "  console.log(JSON.stringify({name: n, code: e ? e.code : null, address: a || null})); next(); });"
              "look(process.argv[1], {}, () => look(process.argv[2], {family: 4}, () => {}));")
    dns_mark = testnet.dns_log.mark()
    run = netlib.run([rustyolo_bin, "--network", testnet.name, "--allow-lan", "--cpus", "1", "--memory", "1g",
                      "--dns-servers", testnet.dns_ip, "--allow-domains", "allowed.test", "--audit-log", "basic",
                      "--image", image, "exec", "--", "node", "-e", script, name, "allowed.test"],
                     check=False, cwd=project_dir, env=dict(os.environ, XDG_STATE_HOME=state), timeout=180,
                     stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert results == [{"name": name, "code": "ENOTFOUND", "address": None},
                       {"name": "allowed.test", "code": None, "address": testnet.ip(20)}], run.stdout
    files = glob.glob(os.path.join(state, "rustyolo", "audit", "*.jsonl"))
    assert len(files) == 1, files
    with open(files[0]) as f:
        records = [json.loads(line) for line in f.read().splitlines()]
    asked = [r["details"]["qtype"] for r in records
             if r["layer"] == "dns" and r["verdict"] == "block" and r["details"]["name"] == name]
    assert "A" in asked and set(asked) <= {"A", "AAAA"}, asked
    assert len(asked) == len(set(asked)), f"a query was retried: {asked}"
    assert name not in testnet.queries(dns_mark)


def test_a_blocked_connection_is_refused_not_left_to_time_out(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    mark = testnet.events.mark()
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    # TCP: a reset (a drop would give ETIMEDOUT after the probe's 1.5 s).
    assert box.cmd(f"tcp {testnet.ip(22)} 443 1500") == "err ECONNREFUSED", "raw IP"
    assert box.cmd(f"tcp {testnet.ip(20)} 8080 1500") == "err ECONNREFUSED", "allowed name, other port"
    assert box.cmd(f"tcp {LINK_LOCAL_TARGET} 80 1500") == "err ECONNREFUSED", "never-allowed range (the guard)"
    # UDP: the send fails (EPERM, as before), and the ICMP error (administratively prohibited,
    # code 13) reaches the connected socket (a drop would leave it without a reply: noreply).
    assert box.cmd(f"udpconn {testnet.ip(20)} 9999") == "ok send=EPERM recv=EHOSTUNREACH"
    # Twin: the allowed destination answers.
    assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(20)}:443")
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(22)}:") == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(20)}:8080") == []
    assert testnet.events.hits(mark, "udp", f"{testnet.ip(20)}:9999") == []


@pytest.mark.parametrize("runner", ["harness"])  # IPv6 on, and the harness prints the records
def test_refusals_ipv4_and_ipv6_are_each_one_audit_record(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"], ipv6=True)
    mark = testnet.events.mark()
    with Exact(box) as exact:
        assert box.cmd(f"tcp {testnet.ip(22)} 443 1500") == "err ECONNREFUSED"
        assert box.cmd(f"tcp {testnet.ip6(21)} 443 1500") == "err ECONNREFUSED"
        assert box.cmd(f"udpconn {testnet.ip(20)} 9999") == "ok send=EPERM recv=EHOSTUNREACH"
        # ICMPv6 administratively prohibited (code 1) reads as EACCES.
        assert box.cmd(f"udpconn {testnet.ip6(20)} 9999") == "ok send=EPERM recv=EACCES"
        # Twins, IPv4 and IPv6: resolved and reachable, no record.
        assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
        assert answers(stub(box, "allowed.test", "AAAA")) == [testnet.ip6(20)]
        assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
        assert box.cmd(f"tcp {testnet.ip6(20)} 443") == f"ok hello from hosts {testnet.ip6(20)} 443"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip6(20)}:443")
    # Exact (above) checked that the counters grew by exactly the number of records: the resets and
    # ICMP errors the firewall sent back are not counted or recorded. One attempt, one record each.
    recs = exact.new
    assert len(tcp_attempts(recs, testnet.ip(22), 443)) == 1
    assert len(tcp_attempts(recs, testnet.ip6(21), 443)) == 1
    assert len(matching(recs, protocol="tcp")) == 2, recs  # no retransmitted SYN
    udp4 = only(matching(recs, protocol="udp", destination=testnet.ip(20)), "the IPv4 datagram")
    udp6 = only(matching(recs, protocol="udp", destination=testnet.ip6(20)), "the IPv6 datagram")
    assert (udp4["family"], udp4["rule"], udp4["uid"]) == (4, "blocked_output", 1000)
    assert (udp6["family"], udp6["rule"], udp6["uid"]) == (6, "blocked_output", 1000)
    assert len(recs) == 4, recs
    assert matching(recs, port=443, destination=testnet.ip(20)) == []
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip6(21)}:") == []
    box.close()
    assert "packet audit: " in box.stderr() and " 0 lost" in box.stderr()


@pytest.mark.parametrize("runner", ["harness"])
def test_iptables_refuses_too(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"], firewall="iptables")
    mark = testnet.events.mark()
    with Exact(box, "iptables") as exact:
        assert box.cmd(f"tcp {testnet.ip(22)} 443 1500") == "err ECONNREFUSED"
        assert box.cmd(f"udpconn {testnet.ip(20)} 9999") == "ok send=EPERM recv=EHOSTUNREACH"
        assert box.cmd(f"tcp {testnet.ip(20)} 443") == f"ok hello from hosts {testnet.ip(20)} 443"
    assert testnet.events.wait_for(mark, "tcp", f"{testnet.ip(20)}:443")
    assert len(tcp_attempts(exact.new, testnet.ip(22), 443)) == 1
    assert only(matching(exact.new, protocol="udp"), "the datagram")["rule"] == "blocked_output"
    assert testnet.events.hits(mark, "tcp", f"{testnet.ip(22)}:") == []
