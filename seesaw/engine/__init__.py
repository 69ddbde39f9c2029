"""The engine: config + check results + HA state + overrides -> the desired
dataplane, handed to NCC; and the operator's live view of it all.

Pure core (events in, state out, no I/O), data flowing down this list:

    checks.py           CheckKey, CheckStatus, what makes a healthcheck unrunnable
    marks.py            firewall-mark ranges and their allocator
    adoption.py         a warm restart: what NCC holds stands until HA and the checks report
    vserver.py          the per-vserver machine: services, destinations, checks, health, NCC partition
    healthchecks.py     checker configs (dedup, IDs that survive a restart, DSR/TUN marks), result routing
    ha_state.py         this node's HA state, LB up/down, failover, HAConfig
    anycast.py          what this node advertises by BGP (NCC's BGPConfig), service anycast VIPs
    ratelimit.py        the vserver churn limit
    rollout.py          config diff, the mass-deletion refusal, churn-limited step counts
    sync_state.py       peer sync: the master's sessions (notes, desync, heartbeats), the backup's watcher
    access.py           who may override which vserver
    auth.py             who may call what: callers, roles, grants, decisions, audit lines
    overrides.py        operator overrides
    validation.py       what the engine refuses in a config
    core.py             Engine: ties them together; pending_apply() for NCC
    snapshots.py        the vserver list kept between calls, rebuilt per vserver only when it changed
    views.py            the Engine API's read views

Asyncio shell around it:

    config_source.py    seesaw.cfg + cluster.pb from --config-dir; binary Cluster bodies from afar
    fetcher.py          HTTPS fetch from the config servers (Seesaw's fetcher), in a worker thread
    config_archive.py   cluster.pb rewritten atomically, earlier versions archived
    config_loader.py    the config source (disk/server/peer): reloads, periodic checks, config diff
    override_store.py   overrides.json, written atomically
    mark_store.py       marks.json: each fwmark vserver's mark, kept across restarts
    runtime.py          wake-ups, reload, timers
    ncc_link.py         NCC client: adopt NCC's state first, apply, retry with backoff, resync on reconnect
    service.py          the Engine servicer (CLI, ECU)
    dataplane_view.py   GetDataplane: NCC's state and counters, read through the NCC link
    auth_proxy.py       engine.sock's front door: SO_PEERCRED per connection, bytes spliced to the gRPC server
    audit_log.py        the audit log file, rotated by size ([ecu] audit_log_max_mb, audit_log_keep)
    auth_guard.py       every call checked against auth.py; writes audited
    auth_server.py      the gRPC server behind the front door, assembled
    ha_link.py          the EngineHA servicer (HA's session; `stopping` when the engine stops for good)
    healthcheck_link.py the EngineHealthcheck servicer (healthcheck's streams)
    sync_tls.py         mutual TLS certificates of the sync port
    sync_server.py      the master's side of peer sync (seesaw.sync.Sync on TCP 10258)
    sync_client.py      the backup's side: watch the master, take its overrides and config
    peer_sync.py        both, started in the daemon
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
