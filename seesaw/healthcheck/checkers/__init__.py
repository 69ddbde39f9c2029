"""The checkers: one coroutine per kind of probe, each in its own file.

base.py           Result, CheckFailed, Checker, attempt (errors -> outcome), run_check (+ timeout, latency)
dial.py, tls.py   sockets with SO_MARK, streams with bounded reads, TLS contexts
poller.py         ConnectPoller: the scheduler's one epoll set for sockets that are connecting
tcp.py udp.py http.py (+ http_client.py) dns.py ping.py (+ icmp.py) radius.py (+ radius_packet.py) grpc_health.py
factory.py        CheckConfig -> checker (a BrokenChecker that says why, when the config cannot run)
"""

from .base import BrokenChecker, Checker, CheckFailed, Result, attempt, run_check, timed_out
from .factory import build
from .poller import ConnectPoller

__all__ = [
    "BrokenChecker",
    "CheckFailed",
    "Checker",
    "ConnectPoller",
    "Result",
    "attempt",
    "build",
    "run_check",
    "timed_out",
]
