"""What every daemon's entry point shares: flags, logging, signals.

    def main() -> None:
        daemon.run("ncc", serve)          # serve(args, stop_event) -> coroutine

`serve` runs until `stop` is set (SIGTERM, SIGINT) and then cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from seesaw.common import log as seesaw_log
from seesaw.common import paths

Serve = Callable[[argparse.Namespace, asyncio.Event], Awaitable[int | None]]


def parser(component: str, description: str = "") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"seesaw-{component}", description=description or f"Seesaw {component}")
    p.add_argument(
        "--config-dir",
        type=Path,
        default=paths.default_config_dir(),
        help="directory holding seesaw.cfg and cluster.pb (default: %(default)s, or $SEESAW_CONFIG_DIR)",
    )
    p.add_argument(
        "--run-dir",
        type=Path,
        default=paths.default_run_dir(),
        help="directory for sockets and state (default: %(default)s, or $SEESAW_RUN_DIR)",
    )
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default: %(default)s)")
    # Seesaw v2's watchdog.cfg passes Go-style flags such as -log_dir=...;
    # accept and ignore them so an existing watchdog.cfg keeps working.
    p.add_argument("-log_dir", "--log_dir", dest="go_log_dir", default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "-logtostderr",
        "--logtostderr",
        dest="go_logtostderr",
        nargs="?",
        const="true",
        default=None,
        help=argparse.SUPPRESS,
    )
    return p


def settle_imports() -> None:
    """Move what the imports made (modules, classes, functions: 25-30k objects that live as long as the
    process) out of the cyclic collector's sight. A full collection walks every tracked object: 4-13 ms for
    a daemon's imports alone, and one that fell in a takeover (NCC, just restarted, in the lab) held its
    event loop for 10 ms right when the clients came over."""
    gc.collect()
    gc.freeze()


def run(
    component: str, serve: Serve, argv: list[str] | None = None, arg_parser: argparse.ArgumentParser | None = None
) -> None:
    """Parse flags, set up logging, run `serve` until SIGTERM/SIGINT; exit with its code."""
    args = (arg_parser or parser(component)).parse_args(argv)
    logger = seesaw_log.setup(component, args.log_level)
    try:
        code = asyncio.run(_main(serve, args))
    except KeyboardInterrupt:
        code = 0
    except Exception as exc:  # a crash: say what, exit non-zero so the watchdog restarts us
        logger.exception("fatal: %s", exc)
        code = 1
    sys.exit(code or 0)


async def _main(serve: Serve, args: argparse.Namespace) -> int | None:
    settle_imports()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger(__name__).debug("starting with %s", vars(args))
    return await serve(args, stop)
