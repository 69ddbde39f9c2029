"""`seesaw-ha`: the VRRP election daemon.

Normally it takes its config from the engine over `EngineHA.HASession` and
reports back. `--test-mode` runs the election from flags alone, with no
engine, for tests and for debugging a link:

    seesaw-ha --test-mode --local-addr 10.99.0.2 --interface eth0 --priority 200 --vrid 60
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from seesaw.common import daemon, paths, rpc, sdnotify
from seesaw.ha.engine_grace import DEFAULT_GRACE
from seesaw.ha.engine_link import REPORT_INTERVAL, RETRY_DELAY, EngineLink
from seesaw.ha.lb_release import LBRelease
from seesaw.ha.lb_takeover import LBTakeover
from seesaw.ha.node import Node
from seesaw.ha.packet import GROUP_V4
from seesaw.ha.service import SERVICE_NAME, HAService
from seesaw.pb import ha_pb2, ha_pb2_grpc

log = logging.getLogger("seesaw.ha")

FORMATS = {"seesaw": ha_pb2.HAConfig.SEESAW, "rfc5798": ha_pb2.HAConfig.RFC5798}


def build_parser() -> argparse.ArgumentParser:
    p = daemon.parser("ha", "Seesaw HA: elects the master of the two load-balancer nodes with VRRPv3 adverts")
    p.add_argument("--engine-socket", type=Path, default=None, help="default: <run-dir>/engine/engine.sock")
    p.add_argument("--ncc-socket", type=Path, default=None, help="default: <run-dir>/ncc/ncc.sock")
    p.add_argument("--engine-retry-delay", type=float, default=RETRY_DELAY, help="seconds (default: %(default)s)")
    p.add_argument("--report-interval", type=float, default=REPORT_INTERVAL, help="seconds (default: %(default)s)")
    p.add_argument(
        "--engine-grace",
        type=float,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help="how long to keep this node's role while a vanished engine restarts; 0 leaves the election at once "
        "(default: %(default)s)",
    )
    test = p.add_argument_group("test mode (config from these flags, no engine)")
    test.add_argument("--test-mode", action="store_true", help="run the election without the engine")
    test.add_argument("--local-addr", default="", help="node address the adverts come from")
    test.add_argument("--remote-addr", default=GROUP_V4, help="where adverts go (default: %(default)s)")
    test.add_argument("--interface", default="", help="node interface (default: the one holding --local-addr)")
    test.add_argument("--priority", type=int, default=100, help="1..255 (default: %(default)s)")
    test.add_argument("--vrid", type=int, default=100, help="1..255 (default: %(default)s)")
    test.add_argument("--advert-interval-ms", type=int, default=500, help="(default: %(default)s)")
    test.add_argument("--preempt", action="store_true", help="take over from a lower-priority master")
    test.add_argument("--format", choices=sorted(FORMATS), default="seesaw", help="advert format (default: seesaw)")
    test.add_argument("--address", action="append", default=[], help="VRRP address to advertise (rfc5798 format)")
    test.add_argument("--unicast-peer", action="append", default=[], help="also send adverts to this peer")
    test.add_argument("--takeover-skew", action="store_true", help="wait RFC 5798's skew after a priority-0 advert")
    test.add_argument(
        "--handover-hold-ms", type=int, default=0, help="after a failover, serve until the new master is heard"
    )
    test.add_argument("--realtime-priority", type=int, default=0, help="SCHED_RR priority 1..99 (0: none)")
    return p


def test_config(args: argparse.Namespace) -> ha_pb2.HAConfig:
    return ha_pb2.HAConfig(
        enabled=True,
        local_address=args.local_addr,
        remote_address=args.remote_addr,
        interface=args.interface,
        priority=args.priority,
        vrid=args.vrid,
        advert_interval_ms=args.advert_interval_ms,
        preempt=args.preempt,
        format=FORMATS[args.format],
        addresses=args.address,
        unicast_peers=args.unicast_peer,
        takeover_skew=args.takeover_skew,
        handover_hold_ms=args.handover_hold_ms,
        realtime_priority=args.realtime_priority,
    )


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    node = Node()
    server = rpc.UnixServer(args.run_dir, "ha")
    server.add(ha_pb2_grpc.add_HAServicer_to_server, HAService(node), SERVICE_NAME)
    await server.start()
    try:
        if args.test_mode:
            if not args.local_addr:
                log.error("--test-mode needs --local-addr (the node address adverts come from)")
                return 2
            if not node.apply(test_config(args)):
                log.error("cannot run the election: %s", node.error)
                return 1
            log.info("test mode: running the election from flags, no engine")
            await server.set_serving(True)
            sdnotify.notify("READY=1")
            await stop.wait()
        else:
            await server.set_serving(True)
            sdnotify.notify("READY=1")
            engine = args.engine_socket or paths.socket_path(args.run_dir, "engine")
            ncc = args.ncc_socket or paths.socket_path(args.run_dir, "ncc")
            release = LBRelease(ncc)
            takeover = LBTakeover(ncc)
            takeover.connect()
            node.on_leader = takeover.takeover
            link = EngineLink(
                node, engine, args.engine_retry_delay, args.report_interval, args.engine_grace, release=release
            )
            try:
                await link.run(stop)
            finally:
                node.on_leader = lambda since_unix_ms: None
                await release.close()
                await takeover.close()
    finally:
        try:
            node.stop()  # a leader says goodbye with a priority-0 advert
        finally:
            await server.stop(0.2)
    return 0


def main(argv: list[str] | None = None) -> None:
    daemon.run("ha", serve, argv, build_parser())
