"""`seesaw-watchdog`: start the Seesaw daemons in dependency order and keep them running.

    seesaw-watchdog [--config FILE] [--log-dir DIR] [--config-dir DIR] [--run-dir DIR]

SIGTERM / SIGINT: stop every service, dependents first, then exit 0.
SIGHUP: re-read watchdog.cfg; start added services, stop removed ones,
restart changed ones. A bad file is refused and nothing running is touched.
A config that cannot be used at start-up exits 78 (EX_CONFIG).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from seesaw.common import daemon, paths
from seesaw.watchdog.config import ConfigError, load, resolve_log_dir
from seesaw.watchdog.process import Dirs
from seesaw.watchdog.runner import Runner

EX_CONFIG = 78
log = logging.getLogger("seesaw.watchdog")


def build_parser() -> argparse.ArgumentParser:
    p = daemon.parser("watchdog", "Seesaw watchdog: runs and supervises the Seesaw daemons")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="watchdog configuration (default: <config-dir>/watchdog.cfg)",
    )
    p.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="where each service's stdout/stderr goes (default: log_dir in the config's [default] section, "
        f"else $SEESAW_LOG_DIR, else {paths.DEFAULT_LOG_DIR})",
    )
    return p


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    config_path: Path = args.config or args.config_dir / "watchdog.cfg"
    try:
        config = load(config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        log.error("Not starting: fix %s and start the watchdog again", config_path)
        return EX_CONFIG
    for warning in config.warnings:
        log.warning("%s", warning)
    log_dir = resolve_log_dir(args.log_dir, config.settings)
    dirs = Dirs(config_dir=args.config_dir.absolute(), run_dir=args.run_dir.absolute(), log_dir=log_dir)
    runner = Runner(config, dirs, log_dir_flag=args.log_dir)
    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, runner.request_reload)
    return await runner.run(stop)


def main(argv: list[str] | None = None) -> None:
    daemon.run("watchdog", serve, argv, build_parser())
