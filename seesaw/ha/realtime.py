"""Realtime scheduling for the thread that runs the election's timers (keepalived's `vrrp_rt_priority`).

On a busy machine a timer of an ordinary (SCHED_OTHER) process fires late,
and a master whose adverts come late enough is taken for dead. With
`[ha] realtime_priority` = 1..99 the event loop's thread runs SCHED_RR at
that priority, ahead of every ordinary process; 0 puts it back to
SCHED_OTHER. It needs CAP_SYS_NICE (root) and, in a cgroup with a realtime
budget, some of it; when refused, the reason and the fix are logged and the
election runs on as it is.

`set_realtime` acts on the calling thread only (Linux schedules threads).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

MAX_PRIORITY = 99


def set_realtime(priority: int) -> str:
    """Schedule the calling thread SCHED_RR at `priority` (0: SCHED_OTHER); "" if done, else why not."""
    if not 0 <= priority <= MAX_PRIORITY:
        return f"realtime priority {priority} is out of range: use 1..{MAX_PRIORITY}, or 0 for none"
    policy = os.SCHED_RR if priority else os.SCHED_OTHER
    try:
        if os.sched_getscheduler(0) == policy and os.sched_getparam(0).sched_priority == priority:
            return ""
        os.sched_setscheduler(0, policy, os.sched_param(priority))
    except PermissionError:
        return (
            f"cannot run HA at realtime priority {priority}: not permitted (run seesaw-ha as root, with "
            "CAP_SYS_NICE, and give its cgroup a realtime budget), or set [ha] realtime_priority = 0"
        )
    except OSError as err:
        return f"cannot run HA at realtime priority {priority}: {err.strerror or err}"
    if priority:
        log.info("HA runs at realtime priority %d (SCHED_RR)", priority)
    else:
        log.info("HA runs at ordinary priority (SCHED_OTHER)")
    return ""
