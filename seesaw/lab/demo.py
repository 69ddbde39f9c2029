"""`make run`: the two-node lab up, its status, a short traffic summary, and where to go next.

    python -m seesaw.lab.demo [--unshare] [--count N]

It runs `seesaw lab up` (with --unshare when not root, or when asked), then
`seesaw lab status` and `seesaw lab traffic -n N`, and says how long the lab
took to serve. The lab stays up: `seesaw lab down` removes it. If it is
already up, it shows it again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from seesaw.lab import main as lab

ENV_STARTED = "SEESAW_MAKE_STARTED"  # wall time (s) when `make run` began, set by the Makefile

NEXT = """\
Next (the lab stays up):
  {seesaw} lab traffic -n 100      requests through every VIP, and which backend answered
  {seesaw} lab failover            the master hands over to the other node (GARP moves the VIPs)
  {seesaw} lab shell lb1           the seesaw shell on lb1 (show vservers, show ha, failover, ...)
  {seesaw} lab shell lb2 -c "show ha"
  {seesaw} lab status              both nodes' HA state, vservers and destinations
  {seesaw} lab down                stop everything and delete the lab's namespaces"""


def _seesaw() -> str:
    """How to call `seesaw` from here: by name when it is on PATH, else by the path next to this Python."""
    beside = Path(sys.executable).parent / "seesaw"
    if shutil.which("seesaw") == str(beside) or not beside.exists():
        return "seesaw"
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def _started() -> tuple[float, str]:
    """When the clock started (wall time), and what started it: `make run` exports SEESAW_MAKE_STARTED."""
    try:
        return float(os.environ[ENV_STARTED]), "`make run`"
    except (KeyError, ValueError):
        return time.time(), "this command"


def main(argv: list[str] | None = None) -> int:
    started, starter = _started()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--unshare", action="store_true", help="run the lab in a private network namespace")
    p.add_argument("--count", type=int, default=20, help="requests per service in the summary (default: 20)")
    args = p.parse_args(argv)
    up = ["up", *(["--unshare"] if args.unshare or os.geteuid() != 0 else [])]
    print(f"$ seesaw lab {' '.join(up)}", flush=True)
    if lab.main(up) != 0:
        return 1
    serving = time.time() - started
    print("\n$ seesaw lab status", flush=True)
    lab.main(["status"])
    print(f"$ seesaw lab traffic -n {args.count}", flush=True)
    if lab.main(["traffic", "-n", str(args.count)]) != 0:
        return 1
    print(f"\nThe lab served traffic {serving:.1f} s after {starter} started.\n")
    print(NEXT.format(seesaw=_seesaw()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
