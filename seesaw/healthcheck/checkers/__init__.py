"""The checkers: one coroutine per kind of probe, each in its own file.

base.py           Result, CheckFailed, Checker, run_check (timeout, latency, errors -> Result)
dial.py, tls.py   sockets with SO_MARK, streams with bounded reads, TLS contexts
tcp.py udp.py http.py (+ http_client.py) dns.py ping.py (+ icmp.py) radius.py (+ radius_packet.py) grpc_health.py
factory.py        CheckConfig -> checker (a BrokenChecker that says why, when the config cannot run)
"""

from .base import BrokenChecker, Checker, CheckFailed, Result, run_check
from .factory import build

__all__ = ["BrokenChecker", "CheckFailed", "Checker", "Result", "build", "run_check"]
