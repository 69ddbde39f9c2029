"""A check's verdict and the doctor's report: `ok|warn|FAIL  <check>: <detail>`, then the fixes.

    ok    default route: via 10.0.0.1 dev br-x
    FAIL  ip_vs: the kernel has no IPVS (modprobe: FATAL: Module ip_vs not found ...)
          fix: modprobe ip_vs
          fix: echo ip_vs >> /etc/modules-load.d/seesaw.conf   (load it at every boot)

Pure: results in, text out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Status(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Result:
    check: str
    status: Status
    detail: str
    fixes: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.status.value:<4}  {self.check}: {self.detail}"


def ok(check: str, detail: str) -> Result:
    return Result(check, Status.OK, detail)


def warn(check: str, detail: str, *fixes: str) -> Result:
    return Result(check, Status.WARN, detail, fixes)


def fail(check: str, detail: str, *fixes: str) -> Result:
    return Result(check, Status.FAIL, detail, fixes)


def failed(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if r.status is Status.FAIL]


def format_report(results: Sequence[Result]) -> str:
    """One line per check, each problem followed by the commands or edits that fix it, and a verdict."""
    lines: list[str] = []
    for result in results:
        lines.append(result.line())
        lines.extend(f"      fix: {fix}" for fix in result.fixes)
    fails = len(failed(results))
    warns = sum(r.status is Status.WARN for r in results)
    if fails:
        verdict = f"{fails} check(s) FAILED, {warns} warning(s): fix the FAIL lines above before starting Seesaw"
    elif warns:
        verdict = f"all checks passed, {warns} warning(s)"
    else:
        verdict = "all checks passed"
    lines.append(verdict)
    return "\n".join(lines) + "\n"
