"""The engine: config + check results + HA state + overrides -> the desired
dataplane, handed to NCC; and the operator's live view of it all.

Pure core (events in, state out, no I/O), data flowing down this list:

    checks.py           CheckKey, CheckStatus, what makes a healthcheck unrunnable
    marks.py            firewall-mark ranges and their allocator
    vserver.py          the per-vserver machine: services, destinations, checks, health, NCC partition
    healthchecks.py     checker configs (dedup, stable IDs, DSR/TUN marks), result routing
    ha_state.py         this node's HA state, LB up/down, failover, HAConfig
    ratelimit.py        the vserver churn limit
    access.py           who may override which vserver
    overrides.py        operator overrides
    validation.py       what the engine refuses in a config
    core.py             Engine: ties them together; pending_apply() for NCC
    views.py            the Engine API's read views

Asyncio shell around it:

    config_source.py    seesaw.cfg + cluster.pb from --config-dir
    override_store.py   overrides.json, written atomically
    runtime.py          wake-ups, reload, timers
    ncc_link.py         NCC client: apply, retry with backoff, resync on reconnect
    service.py          the Engine servicer (CLI, ECU)
    ha_link.py          the EngineHA servicer (HA's session)
    healthcheck_link.py the EngineHealthcheck servicer (healthcheck's streams)
    main.py             seesaw-engine
"""

from seesaw.engine.checks import CheckKey, CheckStatus
from seesaw.engine.core import ConfigRefused, Engine, OverrideError
from seesaw.engine.ha_state import FailoverError, HAStateMachine
from seesaw.engine.healthchecks import HealthcheckManager
from seesaw.engine.overrides import Overrides
from seesaw.engine.vserver import VserverMachine

__all__ = [
    "CheckKey",
    "CheckStatus",
    "ConfigRefused",
    "Engine",
    "FailoverError",
    "HAStateMachine",
    "HealthcheckManager",
    "OverrideError",
    "Overrides",
    "VserverMachine",
]
