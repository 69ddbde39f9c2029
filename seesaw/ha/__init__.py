"""HA: elects the master of the two load-balancer nodes with VRRPv3 adverts.

    packet       the advert on the wire: Seesaw's 8-byte form and RFC 5798's (pure)
    machine      the election as a state machine: events in, actions out (pure)
    net          the raw protocol-112 socket on the node interface
    link_watch   the node interface's carrier, from rtnetlink link events (FAULT while lost)
    realtime     SCHED_RR for the election's thread ([ha] realtime_priority)
    node         the asyncio shell running a machine over a socket
    engine_grace how long HA keeps its role while the engine is away (pure)
    engine_link  the HASession stream with the engine
    lb_release   NCC takes the LB interface down when HA left for lack of an engine
    service      GetStatus on <run-dir>/ha/ha.sock
    main         `seesaw-ha` (and `--test-mode`, with no engine)

This file re-exports the pure core; the daemon's pieces are imported from their modules.
"""

from seesaw.ha.machine import ElectionConfig, Machine, State, Status
from seesaw.ha.packet import Advert, Drop, DropReason, Received, checksum, decode_ipv4, decode_ipv6, encode

__all__ = [
    "Advert",
    "Drop",
    "DropReason",
    "ElectionConfig",
    "Machine",
    "Received",
    "State",
    "Status",
    "checksum",
    "decode_ipv4",
    "decode_ipv6",
    "encode",
]
