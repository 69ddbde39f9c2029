"""`seesaw-ncc`: the network control centre, the only Seesaw process that touches the kernel.

Picks the dataplane (--dataplane, else seesaw.cfg [dataplane] backend), serves
seesaw.ncc.NCC on <run-dir>/ncc/ncc.sock, reads what the dataplane holds
(never flushing it), then reports SERVING and audits periodically. Drives
FRR's bgpd through its VTY socket (--bgpd-vty) when the engine asks for
anycast; bgpd is not needed otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from seesaw.common import daemon
from seesaw.common.clock import SystemClock
from seesaw.common.rpc import UnixServer
from seesaw.config.errors import ConfigError
from seesaw.config.seesaw_cfg import load_settings
from seesaw.ncc import bgp, journal
from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.runner import DEFAULT_AUDIT_INTERVAL, Runner
from seesaw.ncc.select import BACKENDS, DataplaneUnavailable, select
from seesaw.ncc.service import SERVICE_NAME, NCCService
from seesaw.pb import ncc_pb2_grpc
from seesaw.preflight import failed, startup_checks

log = logging.getLogger("seesaw.ncc")

EXIT_UNAVAILABLE = 2


def parser() -> argparse.ArgumentParser:
    p = daemon.parser("ncc", "Seesaw NCC: programs the kernel dataplane the engine asks for")
    p.add_argument(
        "--dataplane",
        choices=BACKENDS,
        default=None,
        help="dataplane to use, overriding [dataplane] backend in seesaw.cfg",
    )
    p.add_argument(
        "--audit-interval",
        type=float,
        default=DEFAULT_AUDIT_INTERVAL,
        metavar="SECONDS",
        help="re-read the dataplane and repair drift this often; 0 disables (default: %(default)s)",
    )
    p.add_argument(
        "--bgpd-vty",
        type=Path,
        default=bgp.DEFAULT_VTY,
        metavar="PATH",
        help="VTY socket of the BGP daemon (FRR's bgpd, or Quagga's) that advertises anycast VIPs "
        "(default: %(default)s)",
    )
    return p


def configured_backend(config_dir: Path) -> tuple[str, str]:
    """`[dataplane] backend` of <config_dir>/seesaw.cfg ("auto" without the file), and where it came from."""
    path = config_dir / "seesaw.cfg"
    if not path.exists():
        return "auto", f"the default, as there is no {path}"
    return load_settings(path).dataplane, f"[dataplane] backend in {path}"


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    if args.dataplane:
        backend, source = args.dataplane, "--dataplane"
    else:
        try:
            backend, source = configured_backend(args.config_dir)
        except ConfigError as err:
            log.error("seesaw.cfg refused; fix it or pass --dataplane:\n%s", err)
            return EXIT_UNAVAILABLE
    # The doctor's checks, logged; a FAIL (e.g. no usable kernel dataplane) refuses the start with its fix.
    problems = failed(await asyncio.to_thread(startup_checks, args.config_dir, backend, source))
    if problems:
        log.error("refusing to start: %s (run `seesaw doctor` for every check and its fix)", problems[0].line())
        return EXIT_UNAVAILABLE
    try:
        # Off the event loop: probes and dataplanes use pyroute2's blocking API, which runs a loop of its own.
        selection = await asyncio.to_thread(select, backend, source)
    except DataplaneUnavailable as err:
        log.error("%s", err)
        return EXIT_UNAVAILABLE
    log.info("dataplane %s: %s", selection.dataplane.name, selection.reason)

    server = UnixServer(args.run_dir, "ncc")
    runner = Runner(
        selection.dataplane,
        selection.reason,
        SystemClock(),
        args.audit_interval,
        journal_path=server.path.parent / journal.FILENAME,
    )
    speaker = bgp.Speaker(args.bgpd_vty)
    server.add(ncc_pb2_grpc.add_NCCServicer_to_server, NCCService(runner, speaker), SERVICE_NAME)
    await server.start()
    background: list[asyncio.Task[None]] = []
    try:
        await runner.start()
        await server.set_serving(True)
        background = [
            asyncio.create_task(runner.run_audits(stop)),
            asyncio.create_task(runner.run_journal(stop)),
            asyncio.create_task(speaker.run_audits(stop, args.audit_interval)),
        ]
        await stop.wait()
        log.info("stopping (the dataplane keeps its state)")
    except DataplaneError as err:
        log.error("cannot read the %s dataplane: %s", selection.dataplane.name, err)
        return EXIT_UNAVAILABLE
    finally:
        await server.stop()  # no new calls; then the audit ends and the journal is written one last time
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        selection.dataplane.close()
    return 0


def main() -> None:
    daemon.run("ncc", serve, arg_parser=parser())
