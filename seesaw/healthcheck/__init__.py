"""The healthcheck daemon: probes backends, streams their health to the engine.

checkers/       one coroutine per probe kind (TCP, TLS, UDP, HTTP(S), DNS, ICMP, RADIUS, gRPC)
retry.py        result -> health state, Seesaw's retry rule (pure)
batch.py        when results go to the engine (pure)
check.py        one check: config, checker, health, last result
scheduler.py    runs every check on time, bounded concurrency
engine_link.py  WatchChecks in, ReportResults out, reconnects and resyncs
service.py      Healthcheck.ListChecks;  main.py  the seesaw-healthcheck daemon
"""

from .check import Check
from .retry import Health, RetryState, Transition
from .scheduler import Scheduler

__all__ = ["Check", "Health", "RetryState", "Scheduler", "Transition"]
