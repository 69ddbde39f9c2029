"""Where things live: config dir, run dir, sockets, logs.

Every component takes `--config-dir` and `--run-dir`; the watchdog passes its
own to its children through the environment, so one machine can run several
nodes (one per network namespace) side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG_DIR = Path("/etc/seesaw")
DEFAULT_RUN_DIR = Path("/run/seesaw")
DEFAULT_LOG_DIR = Path("/var/log/seesaw")

ENV_CONFIG_DIR = "SEESAW_CONFIG_DIR"
ENV_RUN_DIR = "SEESAW_RUN_DIR"
ENV_LOG_DIR = "SEESAW_LOG_DIR"

COMPONENTS = ("ncc", "engine", "ha", "healthcheck", "ecu")


def default_config_dir() -> Path:
    return Path(os.environ.get(ENV_CONFIG_DIR, DEFAULT_CONFIG_DIR))


def default_run_dir() -> Path:
    return Path(os.environ.get(ENV_RUN_DIR, DEFAULT_RUN_DIR))


def default_log_dir() -> Path:
    return Path(os.environ.get(ENV_LOG_DIR, DEFAULT_LOG_DIR))


def socket_path(run_dir: Path, component: str) -> Path:
    """`<run-dir>/<component>/<component>.sock`."""
    return run_dir / component / f"{component}.sock"


def state_dir(run_dir: Path, component: str) -> Path:
    """A component's own directory under the run dir."""
    return run_dir / component
