"""Logging set-up shared by every daemon: one line per event, to stderr.

The watchdog captures each child's stderr into its log file; under systemd
the journal adds timestamps of its own.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s.%(msecs)03d %(levelname).1s %(name)s: %(message)s"
DATEFMT = "%Y-%m-%d %H:%M:%S"


def setup(component: str, level: str = "INFO") -> logging.Logger:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, DATEFMT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # grpc and asyncio are chatty at DEBUG; keep them at WARNING unless asked.
    for noisy in ("grpc", "asyncio", "pyroute2"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return logging.getLogger(f"seesaw.{component}")
