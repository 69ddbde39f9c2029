"""Preflight: `seesaw doctor`, and the same checks when NCC starts.

facts.py    one pass over this machine: rtnetlink, /proc/sys, /sys/module, select.py's probes, modprobe,
            FRR's bgpd (installed, enabled, answering on its VTY socket)
checks.py   pure: facts + seesaw.cfg + cluster.pb -> one Result per check, with the fix
result.py   Result, Status and the report: `ok|warn|FAIL  <check>: <detail>` then `fix:` lines
doctor.py   run_doctor(config_dir, out) -> exit status; startup_checks(config_dir, backend) for NCC
"""

from seesaw.preflight.doctor import diagnose, load_config, run_doctor, startup_checks
from seesaw.preflight.facts import BGPSpeaker, Facts, Module, System
from seesaw.preflight.result import Result, Status, failed, format_report

__all__ = [
    "BGPSpeaker",
    "Facts",
    "Module",
    "Result",
    "Status",
    "System",
    "diagnose",
    "failed",
    "format_report",
    "load_config",
    "run_doctor",
    "startup_checks",
]
