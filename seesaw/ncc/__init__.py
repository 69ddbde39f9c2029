"""NCC, the network control centre: the only process that touches the kernel.

Declarative: the engine hands over desired state in partitions; NCC plans the
difference against what it applied and what the kernel holds, and writes only
that. Data flows down this list:

    model.py       desired-state objects (frozen, keyed), Partition, Request, ObjectError
    convert.py     protobuf <-> model, validating each object on its own
    steps.py       Step (one kernel write) and StepResult
    inventory.py   objects by partition with an owner index
    planner.py     pure: request + desired + applied + kernel -> ordered steps
    reconciler.py  sans-IO core: plans in, outcomes out, drift audit, counters
    dataplane.py   the Dataplane protocol and KernelState
    sim.py         the in-memory kernel model (`sim` dataplane)
    select.py      auto|ipvs|nftables|sim -> a Dataplane, with the reason
    journal.py     the desired state kept across restarts (<run-dir>/ncc/desired.pb)
    runner.py      asyncio shell: serialised dataplane calls, periodic audit, journal
    service.py     the seesaw.ncc.NCC gRPC servicer
    bgp/           the BGP speaker driver (FRR's bgpd over its VTY socket): anycast advertisements
    main.py        the seesaw-ncc daemon (reads [dataplane] backend from seesaw.cfg)
"""

from seesaw.ncc.dataplane import Dataplane, DataplaneError, KernelState
from seesaw.ncc.model import ObjectError, Partition, Request
from seesaw.ncc.planner import Plan
from seesaw.ncc.reconciler import Outcome, Reconciler
from seesaw.ncc.select import DataplaneUnavailable, select
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Op, Step, StepResult

__all__ = [
    "Dataplane",
    "DataplaneError",
    "DataplaneUnavailable",
    "KernelState",
    "ObjectError",
    "Op",
    "Outcome",
    "Partition",
    "Plan",
    "Reconciler",
    "Request",
    "SimDataplane",
    "Step",
    "StepResult",
    "select",
]
