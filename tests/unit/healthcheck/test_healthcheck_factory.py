"""From CheckConfig to checker: every type, and configs that cannot run say why."""

import asyncio

import pytest

from seesaw.healthcheck.checkers import BrokenChecker, build, run_check
from seesaw.healthcheck.checkers.dns import DNSChecker
from seesaw.healthcheck.checkers.grpc_health import GRPCHealthChecker
from seesaw.healthcheck.checkers.http import HTTPChecker
from seesaw.healthcheck.checkers.ping import PingChecker
from seesaw.healthcheck.checkers.radius import RADIUSChecker
from seesaw.healthcheck.checkers.tcp import TCPChecker
from seesaw.healthcheck.checkers.udp import UDPChecker
from seesaw.pb import healthcheck_pb2 as hc


def cfg(**kw):
    base = {"id": 1, "name": "X/80_0", "target": "10.0.0.1", "port": 80, "interval_ms": 10000, "timeout_ms": 5000}
    base.update(kw)
    return hc.CheckConfig(**base)


def test_every_type_builds():
    assert isinstance(build(cfg(type=hc.CHECK_ICMP_PING, port=0)), PingChecker)
    assert isinstance(build(cfg(type=hc.CHECK_UDP, send="x")), UDPChecker)
    tcp = build(cfg(type=hc.CHECK_TCP, send="a", receive="b"))
    assert isinstance(tcp, TCPChecker) and (tcp.send, tcp.receive, tcp.use_tls) == (b"a", b"b", False)
    tls = build(cfg(type=hc.CHECK_TCP_TLS, tls_verify=True, host_header="example.com"))
    assert isinstance(tls, TCPChecker) and tls.use_tls and tls.tls_verify and tls.server_name == "example.com"
    http = build(cfg(type=hc.CHECK_HTTP, send="/healthz", receive="ok", code=200, method="head"))
    assert isinstance(http, HTTPChecker)
    assert (http.secure, http.method, http.request, http.receive, http.code) == (False, "HEAD", "/healthz", b"ok", 200)
    https = build(cfg(type=hc.CHECK_HTTPS, port=443))
    assert isinstance(https, HTTPChecker) and https.secure and https.method == "GET" and https.request == "/"
    dns = build(cfg(type=hc.CHECK_DNS, port=53, method="a", send="www.example.com", receive="192.0.2.1"))
    assert isinstance(dns, DNSChecker)
    radius = build(cfg(type=hc.CHECK_RADIUS, port=1812, send="u:p:s", receive="reject"))
    assert isinstance(radius, RADIUSChecker) and radius.response == "reject"
    grpc_check = build(cfg(type=hc.CHECK_GRPC, port=50051, send="web", timeout_ms=2000))
    assert isinstance(grpc_check, GRPCHealthChecker) and grpc_check.timeout == 2.0


def test_dsr_mark_is_used():
    tcp = build(cfg(type=hc.CHECK_TCP, mode=hc.MODE_DSR, mark=65536))
    assert isinstance(tcp, TCPChecker) and tcp.mark == 65536
    tun = build(cfg(type=hc.CHECK_HTTP, mode=hc.MODE_TUN, mark=65537))
    assert isinstance(tun, HTTPChecker) and tun.mark == 65537


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (cfg(type=hc.CHECK_TCP, target="backend1"), "target 'backend1' is not an IP address"),
        (cfg(type=hc.CHECK_TCP, port=0), "port 0 is not a port number"),
        (cfg(type=hc.CHECK_TCP, mode=hc.MODE_DSR), "DSR check has no socket mark"),
        (cfg(type=hc.CHECK_ICMP_PING, mode=hc.MODE_DSR, mark=65536), "ICMP_PING checks cannot run in DSR mode"),
        (cfg(type=hc.CHECK_GRPC, mode=hc.MODE_TUN, mark=65536), "GRPC checks cannot run in TUN mode"),
        (cfg(type=hc.CHECK_DNS, send="www.example.com"), "needs `method` set to the query type"),
        (cfg(type=hc.CHECK_DNS, method="A"), "needs `send` set to the name to query"),
        (cfg(type=hc.CHECK_DNS, method="A", send="x.example", receive="::1"), "is not an IPv4 address"),
        (cfg(type=hc.CHECK_RADIUS, send="user:pass"), "must be username:password:secret"),
        (cfg(type=hc.CHECK_RADIUS, send="u:p:s", receive="yes"), "must be one of accept"),
        (cfg(type=hc.CHECK_UNSPECIFIED), "unknown check type 0"),
    ],
)
def test_configs_that_cannot_run_fail_with_the_reason(config, reason):
    checker = build(config)
    assert isinstance(checker, BrokenChecker)
    result = asyncio.run(run_check(checker, 1.0))
    assert not result.ok
    assert result.message.startswith("check X/80_0 cannot run: ")
    assert reason in result.message
