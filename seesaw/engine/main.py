"""`seesaw-engine`: the brain. Reads seesaw.cfg + cluster.pb from
--config-dir, serves the Engine API (and HA's and healthcheck's streams) on
<run-dir>/engine/engine.sock, and keeps NCC programmed. Who may call what is
decided from each caller's kernel credentials (auth_server).

A missing or bad config at start does not stop the engine: it serves its API
with no vservers and the problems in `config status`, and `config reload`
takes the fixed files. Overrides persist in <run-dir>/engine/overrides.json.

A restarted engine adopts the dataplane NCC holds until HA and the
healthchecks report (`adoption`), so SIGKILL of the engine (the watchdog
restarts it) interrupts no traffic and writes nothing. On SIGTERM it stops
for good: it tells HA, which leaves the election (the peer takes over), takes
the LB interface down and leaves the rest of the dataplane as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging

from seesaw.common import daemon, paths, sdnotify
from seesaw.common.clock import SystemClock
from seesaw.config.errors import ConfigError
from seesaw.engine import auth_server, dataplane_view, ha_link, healthcheck_link, peer_sync, service
from seesaw.engine.config_loader import SOURCE_FILENAME
from seesaw.engine.config_source import DiskConfigSource
from seesaw.engine.core import ConfigRefused, Engine
from seesaw.engine.mark_store import FILENAME as MARKS_FILENAME
from seesaw.engine.ncc_link import NCCLink
from seesaw.engine.override_store import FILENAME as OVERRIDES_FILENAME
from seesaw.engine.runtime import DEFAULT_STEP_INTERVAL, EngineRuntime
from seesaw.pb import engine_pb2_grpc

log = logging.getLogger("seesaw.engine")

SETTLE_TIMEOUT = 2.0  # on SIGTERM, at most this long for NCC to take the LB interface down


def parser() -> argparse.ArgumentParser:
    p = daemon.parser("engine", "Seesaw engine: turns config, health and HA state into the dataplane NCC programs")
    p.add_argument(
        "--config-step-interval",
        type=float,
        default=DEFAULT_STEP_INTERVAL,
        metavar="SECONDS",
        help="how often a config held back by the churn limit takes its next step (default: %(default)s)",
    )
    auth_server.add_arguments(p)
    return p


def build_runtime(args: argparse.Namespace) -> EngineRuntime:
    """The engine and its runtime, with overrides restored and the config loaded (if it is good)."""
    engine = Engine(None, SystemClock())
    overrides_path = paths.state_dir(args.run_dir, "engine") / OVERRIDES_FILENAME
    runtime = EngineRuntime(
        engine,
        DiskConfigSource(args.config_dir),
        overrides_path,
        step_interval=args.config_step_interval,
        source_path=overrides_path.parent / SOURCE_FILENAME,
        marks_path=overrides_path.parent / MARKS_FILENAME,
    )
    runtime.restore_overrides()
    runtime.restore_marks()  # before the config: each fwmark vserver gets its mark back
    with contextlib.suppress(ConfigError, ConfigRefused):  # logged and kept in config status
        runtime.reload()
    runtime.loader.restore_source()  # a remote source is checked once serving (config_loader)
    if engine.target is None:
        log.error(
            "no usable config: serving the API with no vservers; fix the files and run `seesaw -c 'config reload'`"
        )
    return runtime


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    runtime = build_runtime(args)
    server = auth_server.GuardedServer(args.run_dir, runtime.engine, auth_server.role_groups(args))
    engine_service = service.EngineService(runtime)
    server.add(engine_pb2_grpc.add_EngineServicer_to_server, engine_service, service.SERVICE_NAME)
    ha_service = ha_link.EngineHAService(runtime)
    server.add(engine_pb2_grpc.add_EngineHAServicer_to_server, ha_service, ha_link.SERVICE_NAME)
    server.add(
        engine_pb2_grpc.add_EngineHealthcheckServicer_to_server,
        healthcheck_link.EngineHealthcheckService(runtime),
        healthcheck_link.SERVICE_NAME,
    )
    ncc = NCCLink(runtime, paths.socket_path(args.run_dir, "ncc"))
    engine_service.read_dataplane = functools.partial(dataplane_view.read, ncc)
    await server.start()
    ncc_stop = asyncio.Event()  # the NCC link outlives `stop`: it carries the engine's last word
    tasks = [asyncio.create_task(ncc.run(ncc_stop)), asyncio.create_task(runtime.run_timers(stop))]
    tasks.append(asyncio.create_task(runtime.loader.run(stop)))
    sync = await peer_sync.start(runtime, args.config_dir, stop)
    try:
        await server.set_serving(True)
        sdnotify.notify("READY=1")
        await stop.wait()
        log.info("stopping for good: HA leaves the election, the LB interface goes down, the rest stays")
        if not await ha_service.close():
            log.warning("HA did not confirm that it left the election; stopping anyway")
        if not await ncc.settle(SETTLE_TIMEOUT):
            log.warning(
                "NCC did not take the last changes (the LB interface may still be up): %s",
                runtime.engine.ncc.error or f"no answer within {SETTLE_TIMEOUT:.0f} s",
            )
    finally:
        ncc_stop.set()
        await sync.stop()
        await server.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return 0


def main() -> None:
    daemon.run("engine", serve, arg_parser=parser())
