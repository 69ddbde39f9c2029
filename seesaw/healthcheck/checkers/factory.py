"""From the engine's CheckConfig to a ready checker.

A config that cannot run (a DNS check without a query type, a RADIUS `send`
not shaped user:pass:secret, a DSR probe without a mark...) becomes a
BrokenChecker: every run fails with the reason, so the backend stays down
and `ListChecks` / the engine show why, instead of the check vanishing.
"""

from __future__ import annotations

import ipaddress

from seesaw.pb import healthcheck_pb2 as hc_pb

from . import dns, radius
from .base import BrokenChecker, Checker
from .dial import host_port
from .grpc_health import GRPCHealthChecker
from .http import HTTPChecker
from .ping import PingChecker
from .poller import ConnectPoller
from .tcp import TCPChecker
from .udp import UDPChecker

MODES = {hc_pb.MODE_PLAIN: "PLAIN", hc_pb.MODE_DSR: "DSR", hc_pb.MODE_TUN: "TUN"}
DEFAULT_TIMEOUT_S = 5.0


def type_name(kind: int) -> str:
    try:
        return str(hc_pb.CheckType.Name(kind)).removeprefix("CHECK_")
    except ValueError:
        return f"type {kind}"


def build(config: hc_pb.CheckConfig, poller: ConnectPoller | None = None) -> Checker:
    """The checker for `config`; TCP-based ones wait for their connects in `poller` when given."""
    try:
        return _build(config, poller)
    except ValueError as err:
        where = f"{type_name(config.type)} {host_port(config.target, config.port)}"
        return BrokenChecker(where, f"check {config.name or config.id} cannot run: {err}")


def _build(c: hc_pb.CheckConfig, poller: ConnectPoller | None) -> Checker:
    try:
        ipaddress.ip_address(c.target)
    except ValueError:
        raise ValueError(f"target {c.target!r} is not an IP address") from None
    kind = c.type
    dsr = c.mode != hc_pb.MODE_PLAIN
    mark = c.mark if c.mode in MODES else 0
    if c.mode not in MODES:
        raise ValueError(f"unknown mode {c.mode}")
    if dsr and kind in (hc_pb.CHECK_ICMP_PING, hc_pb.CHECK_GRPC):
        raise ValueError(f"{type_name(kind)} checks cannot run in {MODES[c.mode]} mode (no socket mark); use PLAIN")
    if dsr and not mark:
        raise ValueError(f"{MODES[c.mode]} check has no socket mark (the engine allocates one per backend)")
    if kind == hc_pb.CHECK_ICMP_PING:
        return PingChecker(c.target)
    if not 0 < c.port < 65536:
        raise ValueError(f"port {c.port} is not a port number")
    send, receive = c.send.encode(), c.receive.encode()
    if kind in (hc_pb.CHECK_TCP, hc_pb.CHECK_TCP_TLS):
        tls = kind == hc_pb.CHECK_TCP_TLS
        return TCPChecker(c.target, c.port, mark, send, receive, tls, c.tls_verify, c.host_header, poller)
    if kind == hc_pb.CHECK_UDP:
        return UDPChecker(c.target, c.port, mark, send, receive)
    if kind in (hc_pb.CHECK_HTTP, hc_pb.CHECK_HTTPS):
        return HTTPChecker(
            c.target,
            c.port,
            mark,
            secure=kind == hc_pb.CHECK_HTTPS,
            tls_verify=c.tls_verify,
            method=(c.method or "GET").upper(),
            request=c.send or "/",
            receive=receive,
            code=c.code,
            proxy=c.proxy,
            host_header=c.host_header,
            poller=poller,
        )
    if kind == hc_pb.CHECK_DNS:
        rdtype = dns.query_type(c.method)
        dns.expected_answer(rdtype, c.receive)
        dns.query_name(c.send)
        return dns.DNSChecker(c.target, c.port, c.send, c.method, c.receive, mark)
    if kind == hc_pb.CHECK_RADIUS:
        user, password, secret = radius.parse_send(c.send)
        return radius.RADIUSChecker(c.target, c.port, user, password, secret, radius.parse_receive(c.receive), mark)
    if kind == hc_pb.CHECK_GRPC:
        return GRPCHealthChecker(c.target, c.port, c.send, (c.timeout_ms / 1000.0) or DEFAULT_TIMEOUT_S)
    raise ValueError(f"unknown check type {kind}")
