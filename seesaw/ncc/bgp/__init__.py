"""NCC's BGP speaker driver: FRR's bgpd (or Quagga's), through its VTY socket.

Anycast VIPs are advertised with `network` statements while healthy and
withdrawn when not; the neighbours come from cluster.pb. Data flows down:

    model.py      what NCC owns in bgpd, the desired and running state, changes, neighbours
    convert.py    seesaw.ncc.BGPConfig / BGPNeighbor <-> model, checking each part
    running.py    pure: `show running-config` -> the part NCC manages
    plan.py       pure: desired + running -> changes, problems
    neighbors.py  pure: `show bgp neighbors json` (FRR) or its text (Quagga) -> neighbours
    vty.py        pure: the VTY framing (NUL-terminated commands, replies ending in 3 NULs + status)
    client.py     asyncio: one short VTY session (connect, enable, commands)
    execute.py    asyncio: type a plan's changes into bgpd's config modes
    speaker.py    asyncio: apply, read back, neighbours, audit
"""

from seesaw.ncc.bgp.client import VTYSession, VTYUnavailable
from seesaw.ncc.bgp.convert import desired_from_pb
from seesaw.ncc.bgp.model import DISABLED, Desired, Neighbor, Peer, Problem, Running
from seesaw.ncc.bgp.plan import Plan, plan
from seesaw.ncc.bgp.speaker import DEFAULT_VTY, Outcome, Speaker

__all__ = [
    "DEFAULT_VTY",
    "DISABLED",
    "Desired",
    "Neighbor",
    "Outcome",
    "Peer",
    "Plan",
    "Problem",
    "Running",
    "Speaker",
    "VTYSession",
    "VTYUnavailable",
    "desired_from_pb",
    "plan",
]
