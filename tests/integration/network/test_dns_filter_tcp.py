"""The DNS filter under a misbehaving TCP client, run standalone: the real binary, as its own uid
65533, in a scratch network namespace (nothing leaves it), with an upstream on loopback that
accepts TCP connections and never answers. A client that resets its connection while its query
waits upstream must not make the filter spin."""
import os
import subprocess
import sys

import pytest

# Runs inside `unshare -n`: argv[1] is the filter binary. Prints "refused ok" and "cpu SECONDS".
SCRIPT = r'''
import os, socket, struct, subprocess, sys, time

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
# The upstream: accepts TCP (the kernel completes the handshake) and never answers.
upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
upstream.bind(("127.0.0.1", 5353))
upstream.listen(64)
quiet_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
quiet_udp.bind(("127.0.0.1", 5353))

flt = subprocess.Popen(["setpriv", "--reuid", "65533", "--regid", "65533", "--clear-groups", sys.argv[1],
                        "--listen", "127.0.0.1:5300", "--mode", "filter", "--upstream", "127.0.0.1:5353",
                        "--allow", "*.allowed.test=443", "--timeout-ms", "8000"])

def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(q)) + q

def connect():
    deadline = time.time() + 5
    while True:
        try:
            return socket.create_connection(("127.0.0.1", 5300), timeout=2)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)

def cpu_seconds():
    fields = open(f"/proc/{flt.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

try:
    # The twin: the filter serves TCP (a name that is not allowed is refused at once: NXDOMAIN).
    c = connect()
    c.sendall(query("blocked.test", 7))
    reply = c.recv(512)
    print("refused ok" if len(reply) > 5 and (reply[5] & 0x0f) == 3 else f"refused BAD {reply!r}", flush=True)
    c.close()
    # Three clients ask for an allowed name (the upstream holds it) and reset their connections.
    for i in range(3):
        c = connect()
        c.sendall(query(f"slow{i}.allowed.test", 100 + i))
        time.sleep(0.1)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    start = cpu_seconds()
    time.sleep(2)
    print(f"cpu {cpu_seconds() - start:.2f}", flush=True)
finally:
    flt.kill()
    flt.wait()
'''


def test_a_reset_connection_waiting_upstream_does_not_make_the_filter_spin(plugin_dir):
    if os.geteuid() != 0:
        pytest.skip("needs root for a scratch network namespace")
    filter_bin = os.path.join(plugin_dir, "rustyolo-dns-filter")
    run = subprocess.run(["unshare", "-n", sys.executable, "-c", SCRIPT, filter_bin], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split("\n")
    assert "refused ok" in lines, run.stdout + run.stderr
    cpu = float(next(line.split()[1] for line in lines if line.startswith("cpu ")))
    # Spinning on the reset sockets burns about a CPU second per second here.
    assert cpu < 0.3, f"the filter used {cpu} s of CPU in 2 s with nothing to do"
