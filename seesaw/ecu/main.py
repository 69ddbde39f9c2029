"""`seesaw-ecu`: the node's public face.

* the control API: gRPC over TLS with client certificates (default port
  10256), passed on to the engine for the certificate's user;
* monitoring: HTTP `/metrics` (Prometheus) and `/healthz` (default port 10257).

Without its TLS files the ECU logs why and serves monitoring only, as
Seesaw's did. Each port is written to <run-dir>/ecu/{control,monitor}.port
(useful with PORT 0, which picks a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from seesaw.common import daemon, paths
from seesaw.common.rpc import UnixServer

from .control_server import ControlServer, TLSFiles, TLSFilesMissing
from .engine_client import EngineReader
from .monitor import DEFAULT_SAMPLE_INTERVAL, MonitorServer

log = logging.getLogger("seesaw.ecu")

DEFAULT_CONTROL_PORT = 10256
DEFAULT_MONITOR_PORT = 10257


def _parser() -> argparse.ArgumentParser:
    p = daemon.parser("ecu", "Seesaw ECU: the control API (gRPC over TLS) and /metrics, /healthz for this node")
    p.add_argument(
        "--monitor-address",
        default=None,
        help="HOST:PORT for /metrics and /healthz (default: all addresses, port from seesaw.cfg [ecu] "
        f"monitor_port or {DEFAULT_MONITOR_PORT}; PORT 0 picks a free port)",
    )
    p.add_argument(
        "--control-address",
        default=None,
        help="HOST:PORT for the control API (default: all addresses, port from seesaw.cfg [ecu] "
        f"control_port or {DEFAULT_CONTROL_PORT}; PORT 0 picks a free port)",
    )
    p.add_argument(
        "--check-sample-interval",
        type=float,
        default=DEFAULT_SAMPLE_INTERVAL,
        metavar="SECONDS",
        help="how often to look at healthcheck results between scrapes, for their histograms (0: at scrapes only; "
        "default: %(default)s)",
    )
    p.add_argument(
        "--ssl-dir",
        type=Path,
        default=None,
        help="directory holding ca.crt, seesaw.crt and seesaw.key (default: <config-dir>/ssl)",
    )
    return p


def _ports(config_dir: Path) -> tuple[int, int]:
    """(control, monitor) ports from seesaw.cfg, or the defaults."""
    cfg = config_dir / "seesaw.cfg"
    if cfg.exists():
        from seesaw.config.errors import ConfigError
        from seesaw.config.seesaw_cfg import load_settings

        try:
            settings = load_settings(cfg)
            return settings.ecu_control_port, settings.ecu_monitor_port
        except ConfigError as err:
            log.warning("using ports %d and %d: %s", DEFAULT_CONTROL_PORT, DEFAULT_MONITOR_PORT, err)
    return DEFAULT_CONTROL_PORT, DEFAULT_MONITOR_PORT


def _address(flag: str | None, default_port: int) -> tuple[str, int]:
    if not flag:
        return "", default_port
    host, _, port = flag.rpartition(":")
    return host.strip("[]"), int(port)


def _control(args: argparse.Namespace, port: int, engine_socket: Path) -> ControlServer | None:
    ssl_dir = args.ssl_dir or args.config_dir / "ssl"
    try:
        tls = TLSFiles.load(ssl_dir)
    except TLSFilesMissing as err:
        log.error("control API disabled: %s", err)
        return None
    host, port = _address(args.control_address, port)
    try:
        return ControlServer(host, port, tls, engine_socket)
    except (OSError, RuntimeError) as err:
        log.error("control API disabled: %s", err)
        return None


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    engine_socket = paths.socket_path(args.run_dir, "engine")
    control_port, monitor_port = _ports(args.config_dir)
    reader = EngineReader(engine_socket)
    host, port = _address(args.monitor_address, monitor_port)
    monitor = MonitorServer(host, port, reader, args.check_sample_interval)
    control = _control(args, control_port, engine_socket)
    server = UnixServer(args.run_dir, "ecu")
    await server.start()
    monitor.start()
    (args.run_dir / "ecu" / "monitor.port").write_text(f"{monitor.port}\n")
    if control is not None:
        await control.start()
        (args.run_dir / "ecu" / "control.port").write_text(f"{control.port}\n")
    await server.set_serving(True)
    await stop.wait()
    log.info("stopping")
    if control is not None:
        await control.stop()
    monitor.stop()
    reader.close()
    await server.stop()
    return 0


def main() -> None:
    daemon.run("ecu", serve, arg_parser=_parser())
