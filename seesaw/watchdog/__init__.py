"""The watchdog: starts the five Seesaw daemons in dependency order and keeps them running.

Below, pure parts first, then the asyncio shell that drives them:

    duration.py, ini.py, config.py   watchdog.cfg (Seesaw's keys) -> WatchdogConfig
    actions.py                       what the pure machines ask for (Spawn, Kill, Log)
    service.py                       one service's state machine (backoff, health, stop)
    supervisor.py                    all services: dependency order, reverse stop, reload
    process.py                       spawning a child (log file, process group, user, nice)
    status.py                        <run-dir>/watchdog/status.json
    notifier.py                      sd_notify from a thread, so systemd can never freeze the loop
    runner.py                        the asyncio loop: processes, probes, timers, sd_notify
    main.py                          `seesaw-watchdog`
"""

from seesaw.watchdog.actions import Action, ExitStatus, Kill, Log, Spawn
from seesaw.watchdog.config import ConfigError, ServiceConfig, Settings, WatchdogConfig, load, resolve_log_dir
from seesaw.watchdog.duration import DurationError, format_duration, parse_duration
from seesaw.watchdog.runner import Runner
from seesaw.watchdog.service import Policy, Service, State
from seesaw.watchdog.status import read_status, status_path
from seesaw.watchdog.supervisor import Supervisor

__all__ = [
    "Action",
    "ConfigError",
    "DurationError",
    "ExitStatus",
    "Kill",
    "Log",
    "Policy",
    "Runner",
    "Service",
    "ServiceConfig",
    "Settings",
    "Spawn",
    "State",
    "Supervisor",
    "WatchdogConfig",
    "format_duration",
    "load",
    "parse_duration",
    "read_status",
    "resolve_log_dir",
    "status_path",
]
