"""Probes that need a kernel of their own: DSR/TUN marks, ICMP to live and dead hosts, unprivileged ICMP."""

import asyncio
import os
import subprocess
import sys

import pytest
from hc_lab import BACKEND, MARK, NOBODY, VIP

from seesaw.healthcheck.checkers import build, run_check
from seesaw.pb import healthcheck_pb2 as hc

pytestmark = pytest.mark.netns


def config(kind, port, mode=hc.MODE_PLAIN, mark=0, target=VIP, **kw):
    return hc.CheckConfig(id=1, name="X", type=kind, mode=mode, mark=mark, target=target, port=port, **kw)


def run(cfg, timeout=1.0):
    return asyncio.run(run_check(build(cfg), timeout))


@pytest.mark.parametrize("mode", [hc.MODE_DSR, hc.MODE_TUN], ids=["dsr", "tun"])
def test_marked_probes_reach_the_backend_behind_the_vip(lab, mode):
    tcp = run(config(hc.CHECK_TCP, lab["tcp"], mode, MARK, send="hello", receive="hello"))
    assert tcp.ok, tcp
    udp = run(config(hc.CHECK_UDP, lab["udp"], mode, MARK, send="ping", receive="ping"))
    assert udp.ok, udp
    http = run(config(hc.CHECK_HTTP, lab["http"], mode, MARK, send="/healthz", receive="ok", code=200))
    assert http.ok, http


def test_unmarked_probe_to_the_vip_has_no_route(lab):
    result = run(config(hc.CHECK_TCP, lab["tcp"]))
    assert not result.ok
    assert result.message == f"connect to {VIP}:{lab['tcp']}: network unreachable"


def test_ping(lab):
    alive = run(config(hc.CHECK_ICMP_PING, 0, target=BACKEND))
    assert alive.ok, alive
    dead = run(config(hc.CHECK_ICMP_PING, 0, target=NOBODY), timeout=0.5)
    assert not dead.ok
    assert dead.message == f"ICMP echo to {NOBODY}: timed out after 0.5 s"


UNPRIVILEGED = """
import asyncio, sys
from seesaw.healthcheck.checkers import build, run_check
from seesaw.pb import healthcheck_pb2 as hc
cfg = hc.CheckConfig(id=1, name="X", type=int(sys.argv[1]), target=sys.argv[2], port=int(sys.argv[3]),
                     mode=int(sys.argv[4]), mark=int(sys.argv[5]))
result = asyncio.run(run_check(build(cfg), 1.0))
print(result.ok, result.message)
"""


def run_as_nobody(kind, target, port=0, mode=hc.MODE_PLAIN, mark=0):
    argv = [sys.executable, "-c", UNPRIVILEGED, str(kind), target, str(port), str(mode), str(mark)]
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if proc.returncode != 0 and "Permission denied" in proc.stderr and "python" in proc.stderr.lower():
        pytest.skip(f"uid 65534 cannot run this venv: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 0, proc.stderr
    ok, _, message = proc.stdout.strip().partition(" ")
    return ok == "True", message


def test_unprivileged_icmp_follows_ping_group_range(lab):
    with open("/proc/sys/net/ipv4/ping_group_range") as f:
        saved = f.read().strip()
    try:
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
            f.write("1 0")  # nobody may use ICMP datagram sockets
        ok, message = run_as_nobody(hc.CHECK_ICMP_PING, BACKEND)
        assert not ok
        assert "ICMP check not permitted: needs CAP_NET_RAW, or group 65534 inside net.ipv4.ping_group_range" in message
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
            f.write("0 2147483647")
        ok, message = run_as_nobody(hc.CHECK_ICMP_PING, BACKEND)
        assert ok, message
    finally:
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
            f.write(saved.replace("\t", " "))


def test_mark_without_cap_net_admin_says_so(lab):
    ok, message = run_as_nobody(hc.CHECK_TCP, VIP, lab["tcp"], hc.MODE_DSR, MARK)
    assert not ok
    assert message == f"cannot set socket mark {MARK} for a DSR/TUN check: needs CAP_NET_ADMIN " + (
        "(run seesaw-healthcheck as root or grant it CAP_NET_ADMIN)"
    )
