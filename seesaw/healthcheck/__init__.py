"""The healthcheck daemon: probes backends, streams their health to the engine.

checkers/       one coroutine per probe kind (TCP, TLS, UDP, HTTP(S), DNS, ICMP, RADIUS, gRPC), the connect poller
retry.py        result -> health state, Seesaw's retry rule (pure)
batch.py        when results go to the engine (pure)
check.py        one check: config, checker, health, last result
timetable.py    when each check runs next (pure)
deadlines.py    when each run in flight must end (pure)
scheduler.py    runs every check on time: a pool of workers, one timer for due checks, one for deadlines
engine_link.py  WatchChecks in, ReportResults out, reconnects and resyncs
service.py      Healthcheck.ListChecks;  main.py  the seesaw-healthcheck daemon
go_flags.py     Seesaw's Go flags (-batch_delay=100ms ...) mapped onto the daemon's, or ignored with a reason
"""

from .check import Check
from .retry import Health, RetryState, Transition
from .scheduler import Scheduler

__all__ = ["Check", "Health", "RetryState", "Scheduler", "Transition"]
