"""`seesaw-ecu`: the monitoring endpoint (and, later, the public API)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from seesaw.common import daemon, paths
from seesaw.common.rpc import UnixServer

from .engine_client import EngineReader
from .monitor import MonitorServer

log = logging.getLogger("seesaw.ecu")

DEFAULT_MONITOR_PORT = 10257


def _parser() -> argparse.ArgumentParser:
    p = daemon.parser("ecu", "Seesaw ECU: /metrics and /healthz for this node")
    p.add_argument(
        "--monitor-address",
        default=None,
        help="HOST:PORT for /metrics and /healthz (default: all addresses, port from seesaw.cfg [ecu] "
        f"monitor_port or {DEFAULT_MONITOR_PORT}; PORT 0 picks a free port)",
    )
    return p


def _monitor_address(args: argparse.Namespace) -> tuple[str, int]:
    if args.monitor_address:
        host, _, port = args.monitor_address.rpartition(":")
        return host.strip("[]"), int(port)
    port = DEFAULT_MONITOR_PORT
    cfg = args.config_dir / "seesaw.cfg"
    if cfg.exists():
        from seesaw.config.errors import ConfigError
        from seesaw.config.seesaw_cfg import load_settings

        try:
            port = load_settings(cfg).ecu_monitor_port
        except ConfigError as err:
            log.warning("using port %d: %s", port, err)
    return "", port


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    reader = EngineReader(paths.socket_path(args.run_dir, "engine"))
    host, port = _monitor_address(args)
    monitor = MonitorServer(host, port, reader)
    server = UnixServer(args.run_dir, "ecu")
    await server.start()
    monitor.start()
    (args.run_dir / "ecu" / "monitor.port").write_text(f"{monitor.port}\n")
    await server.set_serving(True)
    await stop.wait()
    log.info("stopping")
    monitor.stop()
    reader.close()
    await server.stop()
    return 0


def main() -> None:
    daemon.run("ecu", serve, arg_parser=_parser())
