"""`seesaw-healthcheck`: probe the backends the engine asks about, report to the engine."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from seesaw.common import daemon, paths
from seesaw.common.rpc import UnixServer
from seesaw.pb import healthcheck_pb2_grpc as hc_grpc

from . import go_flags
from .engine_link import EngineLink
from .scheduler import DEFAULT_MAX_CONCURRENT, Scheduler
from .service import SERVICE_NAME, HealthcheckService

log = logging.getLogger("seesaw.healthcheck")


def parser() -> argparse.ArgumentParser:
    p = daemon.parser("healthcheck", "Seesaw healthcheck: probes backends and streams their health to the engine")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="do not probe: report every check healthy")
    p.add_argument(
        "--engine-socket",
        type=Path,
        default=None,
        help="the engine's socket (default: <run-dir>/engine/engine.sock)",
    )
    p.add_argument(
        "--max-concurrent",
        type=int,
        default=DEFAULT_MAX_CONCURRENT,
        help="probes in flight at most; each holds a socket, so keep it under the fd limit (default: %(default)s)",
    )
    p.add_argument("--batch-size", type=int, default=100, help="send results at this many (default: %(default)s)")
    p.add_argument(
        "--batch-delay", type=float, default=0.1, help="or this many seconds after the first (default: %(default)s)"
    )
    p.add_argument(
        "--resync-interval",
        type=float,
        default=60.0,
        help="seconds between full resyncs of every check's state (default: %(default)s)",
    )
    p.add_argument(
        "--retry-delay",
        type=float,
        default=1.0,
        help="reconnect to the engine after 50-100%% of this many seconds (default: %(default)s)",
    )
    go_flags.add_to(p)  # Seesaw's -batch_delay=100ms etc., as an existing watchdog.cfg passes them
    return p


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    for line in go_flags.ignored(args):
        log.debug("%s", line)
    if problem := _bad_flag(args):
        log.error("%s", problem)
        return 2
    scheduler = Scheduler(max_concurrent=args.max_concurrent, dry_run=args.dry_run)
    engine_socket = args.engine_socket or paths.socket_path(args.run_dir, "engine")
    link = EngineLink(
        engine_socket,
        scheduler,
        batch_size=args.batch_size,
        batch_delay=args.batch_delay,
        resync_interval=args.resync_interval,
        retry_delay=(args.retry_delay / 2, args.retry_delay),
    )
    scheduler.on_transition = link.notify
    server = UnixServer(args.run_dir, "healthcheck")
    server.add(hc_grpc.add_HealthcheckServicer_to_server, HealthcheckService(scheduler), SERVICE_NAME)
    await server.start()
    scheduler.start()
    link_task = asyncio.create_task(link.run(), name="healthcheck-engine-link")
    await server.set_serving(True)
    if args.dry_run:
        log.warning("dry run: no probes are sent; every check reports healthy")
    log.info("ready; checks come from the engine at %s", engine_socket)
    await stop.wait()
    log.info("stopping")
    link_task.cancel()
    await asyncio.gather(link_task, return_exceptions=True)
    await scheduler.stop()
    await server.stop()
    return 0


def _bad_flag(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags, said so that the fix is plain; None when nothing is."""
    if args.max_concurrent < 1:
        return f"--max-concurrent must be at least 1, not {args.max_concurrent}"
    if args.batch_size < 1:
        return f"--batch-size (-batch_size) must be at least 1, not {args.batch_size}"
    if args.batch_delay < 0:
        return f"--batch-delay (-batch_delay) cannot be negative ({args.batch_delay} s)"
    if args.resync_interval <= 0:
        return f"--resync-interval (-notify_interval) must be positive, not {args.resync_interval} s"
    if args.retry_delay <= 0:
        return f"--retry-delay (-retry_delay) must be positive, not {args.retry_delay} s"
    return None


def main(argv: list[str] | None = None) -> None:
    daemon.run("healthcheck", serve, argv, parser())
