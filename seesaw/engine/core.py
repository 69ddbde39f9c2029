"""The engine: config, check results, HA reports and overrides in; the
desired dataplane (as NCC partitions) and the operator's views out.

`Engine` ties the pure parts together and is itself pure: every method is an
event, nothing sleeps or talks to a socket, time comes from the injected
clock. The daemon (`seesaw.engine.main`) feeds it and carries
`pending_apply()` to NCC.

Rules kept here:

* A refused config changes nothing that runs; the refusal and its reasons
  are in `config_info`. A config equal to the running one changes nothing.
* The first config is taken whole; later ones go through the churn limit
  (`ratelimit`), and `config_step()` takes the next step.
* A node missing from the cluster config, or with vservers disabled, runs no
  vservers (and says why in the warnings).
* NCC gets only what changed since its last successful apply: one partition
  per vserver (`vserver:<name>`), one for the healthcheck marks, one for the
  service anycast VIPs, the LB interface, and the BGP config (`anycast`).
  After (re)connecting it gets everything with `replace_all`.
  Nothing goes to NCC before the first config is loaded, so an engine that
  restarts with a broken config leaves the dataplane as it was.
* An NCC failure is remembered (status, warnings) and the same changes are
  offered again; nothing is flushed.
* A (re)started engine adopts before it applies (`adoption`): the NCC link
  hands it NCC's state first (`adopt`), and until HA and the healthchecks
  report, what the dataplane holds stands. On an unchanged system the first
  Apply after a restart writes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from seesaw.common.clock import Clock
from seesaw.config.model import Cluster, HAState, Node, VIPType, Vserver
from seesaw.config.settings import Settings
from seesaw.engine import anycast, ratelimit, rollout
from seesaw.engine.access import VserverAccess
from seesaw.engine.adoption import HEALTH_MARGIN, LB_HOLD, Adoption, DataplaneSnapshot
from seesaw.engine.checks import CheckKey, CheckStatus
from seesaw.engine.ha_state import HAStateMachine, cluster_vip_ipv4, cluster_vip_ipv6, ha_config, this_node
from seesaw.engine.healthchecks import PARTITION as MARKS_PARTITION
from seesaw.engine.healthchecks import HealthcheckManager, marks_held
from seesaw.engine.link_faults import LinkFaults
from seesaw.engine.marks import FWM_BASE, FWM_SIZE, MarkAllocator
from seesaw.engine.overrides import STATE_NAMES, TARGET_NAMES, Overrides, destination_vserver
from seesaw.engine.validation import config_problems
from seesaw.engine.vserver import VserverMachine, partition_name
from seesaw.pb import common_pb2, engine_pb2, ha_pb2, healthcheck_pb2, ncc_pb2

log = logging.getLogger(__name__)

VSERVER = engine_pb2.OverrideRequest.VSERVER
BACKEND = engine_pb2.OverrideRequest.BACKEND
DESTINATION = engine_pb2.OverrideRequest.DESTINATION


class ConfigRefused(Exception):
    """A config the engine will not run; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class OverrideError(Exception):
    """An override naming something that does not exist; the text says what."""


@dataclass
class ConfigInfo:
    source: str = "disk"
    path: str = ""
    generation: int = 0
    loaded_unix_ms: int = 0
    last_error: str = ""
    last_error_unix_ms: int = 0
    reloads_total: int = 0
    reload_errors_total: int = 0
    file_warnings: tuple[str, ...] = ()  # what the loader found questionable in the files
    origin: str = ""  # where the running config came from: the file, a config server URL, the peer
    last_check_unix_ms: int = 0  # the last look at the source, successful or not


@dataclass
class NCCInfo:
    connected: bool = False
    dataplane: str = ""
    error: str = ""
    error_since_unix_ms: int = 0
    object_errors: tuple[str, ...] = ()
    applies_total: int = 0
    apply_errors_total: int = 0


class Engine:
    def __init__(
        self,
        settings: Settings | None,
        clock: Clock,
        *,
        ha_timeout: float = 30.0,
        lb_hold: float = LB_HOLD,
        adoption_margin: float = HEALTH_MARGIN,
    ) -> None:
        self.clock = clock
        self.settings = settings or Settings(cluster_name="")
        self.settings_loaded = settings is not None
        self.target: Cluster | None = None  # the latest accepted config
        self.cluster: Cluster | None = None  # what runs: the target, churn-limited
        self.machines: dict[str, VserverMachine] = {}
        self.fwm_alloc = MarkAllocator(FWM_BASE, FWM_SIZE)
        self._kept_marks: dict[str, dict[int, int]] = {}  # a restart's marks, until the first config claims them
        self.hc = HealthcheckManager()
        self.ha = HAStateMachine(clock, ha_timeout)
        self.link_faults = LinkFaults()
        self._set_aside: set[int] = set()  # check ids whose failure came while our own link was down
        self._set_aside_said: float | None = None  # the fault whose set-aside checks the log has told of
        self.overrides = Overrides()
        self.access = VserverAccess()
        self.config_info = ConfigInfo()
        self.ncc = NCCInfo()
        self.overrides_version = 0
        self.healthcheck_sessions = 0  # kept by the healthcheck link
        self.sync_warning = ""  # kept by the peer sync client: why this backup is not in sync
        self._node_warning = ""
        self._dirty: set[str] = set()  # partition names that may have changed
        self._resync = True
        self._applied: dict[str, ncc_pb2.Partition] = {}
        self._applied_lb: ncc_pb2.LBInterface | None = None
        self._applied_bgp: ncc_pb2.BGPConfig | None = None
        self.adoption: Adoption | None = None  # a warm restart's holds, while they last
        self._adopt_pending = True  # NCC's state has not been read yet
        self._lb_hold = lb_hold
        self._adoption_margin = adoption_margin

    # ------------------------------------------------------------------ config

    def load_config(
        self, cluster: Cluster, path: str = "", settings: Settings | None = None, *, force: bool = False
    ) -> str:
        """Take a new cluster config (and seesaw.cfg values, if given), or raise
        ConfigRefused and change nothing. `force` takes a config that deletes
        more vservers than max_delete_share allows."""
        now_ms = int(self.clock.wall() * 1000)
        self.config_info.reloads_total += 1
        new_settings = settings if settings is not None else self.settings
        problems = config_problems(cluster, new_settings)
        if not force:
            problems += self._deletion_problems(cluster, new_settings)
        if problems:
            self.record_config_error("\n".join(problems), path)
            raise ConfigRefused(problems)
        info = self.config_info
        info.path = path or info.path
        info.last_error = ""
        info.last_error_unix_ms = 0
        settings_changed = new_settings != self.settings or not self.settings_loaded
        if settings is not None:
            self.settings = settings
            self.settings_loaded = True
        if self.target is not None and cluster == self.target:
            if settings_changed:
                self._apply_target(limit=0)
                return "seesaw.cfg changes applied; no cluster config changes found"
            return "No config changes found"
        first = self.target is None
        metadata_only = (
            self.target is not None
            and not settings_changed
            and dataclasses.replace(cluster, metadata=self.target.metadata) == self.target
        )
        self.target = cluster
        info.generation += 1
        info.loaded_unix_ms = now_ms
        if metadata_only and self.cluster is not None:
            self.cluster = dataclasses.replace(self.cluster, metadata=cluster.metadata)
            return "Only metadata changed"
        before = set(self.machines)
        self._apply_target(limit=0 if first else self.settings.max_vserver_changes)
        created = len(set(self.machines) - before)
        deleted = len(before - set(self.machines))
        adds, dels = self.config_pending()
        message = f"Config loaded: {len(self.machines)} vservers ({created} created, {deleted} deleted)"
        if adds or dels:
            message += (
                f"; {adds} creations and {dels} deletions deferred by the churn limit of "
                f"{self.settings.max_vserver_changes} per step"
            )
        return message

    def _deletion_problems(self, cluster: Cluster, settings: Settings) -> list[str]:
        """Refuse a config that deletes more than `max_delete_share` of the vservers
        (more than one): a truncated or wrong file must not empty a load balancer."""
        running = self.target.vservers if self.target is not None else None
        return rollout.deletion_problems(running, cluster.vservers, settings.max_delete_share)

    def record_config_error(self, message: str, path: str = "") -> None:
        """A config that could not be read or was refused."""
        info = self.config_info
        info.last_error = message
        info.last_error_unix_ms = int(self.clock.wall() * 1000)
        info.reload_errors_total += 1
        if path:
            info.path = path

    def config_pending(self) -> tuple[int, int]:
        """(creations, deletions) the churn limit still holds back."""
        if self.target is None or self.cluster is None:
            return 0, 0
        return ratelimit.pending_changes(self.target.vservers, self.cluster.vservers)

    def config_step(self) -> bool:
        """Take the next churn-limited step towards the target config, if any."""
        if self.target is None or self.cluster is None or self.cluster.vservers == self.target.vservers:
            return False
        self._apply_target(limit=self.settings.max_vserver_changes)
        return True

    def _apply_target(self, limit: int) -> None:
        target = self.target
        if target is None:
            return
        old = self.cluster.vservers if self.cluster is not None else None
        if limit > 0 and old is not None:
            vservers = ratelimit.rate_limit(target.vservers, old, limit)
        else:
            vservers = dict(target.vservers)
        self.cluster = dataclasses.replace(target, vservers=vservers)
        self.access = VserverAccess.from_cluster(target)
        node = self.this_node()
        self.ha.set_enabled(node is not None and node.state != HAState.DISABLED)
        self._dirty.add(MARKS_PARTITION)
        self._dirty.add(anycast.PARTITION)
        try:
            self._run_vservers(vservers, node)
        finally:
            if self._kept_marks:  # the first config has claimed what it still uses: the rest are free again
                self._kept_marks = {}
                self.fwm_alloc.release_held()

    def _run_vservers(self, vservers: Mapping[str, Vserver], node: Node | None) -> None:
        if node is None or not node.vservers_enabled:
            self._node_warning = self._describe_node_problem(node)
            log.warning("%s", self._node_warning)
            self._shutdown_vservers()
            return
        self._node_warning = ""
        for name in [n for n in self.machines if n not in vservers]:
            log.info("stopping unconfigured vserver %s", name)
            self._remove_machine(name)
        for name, cfg in vservers.items():
            machine = self.machines.get(name)
            if machine is None:
                machine = self.machines[name] = VserverMachine(name, self.fwm_alloc, self._kept_marks.get(name))
                self._apply_overrides(machine)
            if machine.config != cfg:
                machine.handle_config(cfg)
                if self.adoption is not None and self.adoption.health_held:
                    machine.adopt(self.adoption.snapshot)
                self._refresh(machine)
        self.hc.rebuild()

    def keep_vserver_marks(self, marks: Mapping[str, Mapping[int, int]]) -> None:
        """The marks the fwmark vservers had before a restart (mark_store): each gets its own back when the
        first config creates it (no other takes one meanwhile); those the config no longer uses go free."""
        self._kept_marks = {name: dict(by_family) for name, by_family in marks.items() if name not in self.machines}
        self.fwm_alloc.hold({mark for by_family in self._kept_marks.values() for mark in by_family.values()})

    @property
    def keeps_marks(self) -> bool:
        """Whether marks restored at start still wait for the first config to claim them."""
        return bool(self._kept_marks)

    def vserver_marks(self) -> dict[str, dict[int, int]]:
        """Each fwmark vserver's marks by address family, as mark_store keeps them."""
        return {name: dict(machine.fwm) for name, machine in sorted(self.machines.items()) if machine.fwm}

    def _describe_node_problem(self, node: Node | None) -> str:
        if node is None:
            ip = self.settings.node_ipv4 or self.settings.node_ipv6
            return (
                f"this node ({ip or 'node_ipv4 not set'}) is not a node of cluster.pb: running no vservers; "
                "add it as a `node` in cluster.pb or fix node_ipv4 in seesaw.cfg"
            )
        return f"vservers are disabled for this node ({node.hostname}) in cluster.pb: running no vservers"

    def _shutdown_vservers(self) -> None:
        for name in list(self.machines):
            self._remove_machine(name)
        self.hc.rebuild()

    def _remove_machine(self, name: str) -> None:
        machine = self.machines.pop(name)
        machine.shutdown()
        self.hc.set_vserver_checks(name, None)
        self._dirty.add(partition_name(name))

    def _refresh(self, machine: VserverMachine) -> None:
        """After a machine changed: its checks to the manager, its partition to NCC."""
        self.hc.set_vserver_checks(machine.name, machine.active_checks())
        self._dirty.add(partition_name(machine.name))

    def this_node(self) -> Node | None:
        return this_node(self.target, self.settings)

    # ------------------------------------------------------------ healthchecks

    def check_configs(self) -> dict[int, healthcheck_pb2.CheckConfig]:
        return self.hc.configs()

    def handle_results(self, batch: healthcheck_pb2.ResultBatch) -> int:
        """Results from the healthcheck daemon; returns how many were for known checks."""
        accepted = 0
        configs = self.hc.configs()
        for result in batch.results:
            routes = self.hc.routes(result.id)
            if not routes:
                continue
            accepted += 1
            if result.state == common_pb2.HEALTH_UNKNOWN:
                continue  # not run yet (a restarted healthcheck's first resync): no news, keep what is known
            if result.state != common_pb2.HEALTH_HEALTHY and self._during_link_fault(result):
                continue
            status = CheckStatus(result.state, result.message, result.latency_us, result.checked_unix_ms)
            description = configs[result.id].description if result.id in configs else ""
            for vserver, key in routes:
                machine = self.machines.get(vserver)
                if machine is not None and machine.handle_check(key, status, description):
                    self._dirty.add(partition_name(vserver))
        if self.adoption is not None and self.adoption.health_held and self._provisional_waiting() == 0:
            log.info("adoption: every adopted destination's checks have reported; provisional health ends")
            self.adoption.release_health()
            self._end_provisional_health()
            self._end_adoption_if_done()
        return accepted

    def _during_link_fault(self, result: healthcheck_pb2.CheckResult) -> bool:
        """A failure taken while this node's own link was down: set it aside, keep what is known, recheck."""
        finished = result.checked_unix_ms / 1000
        span = self.link_faults.span(finished - result.latency_us / 1e6, finished)
        if span is None:
            return False
        self.link_faults.set_aside += 1
        if self.link_faults.ongoing:
            self._set_aside.add(result.id)  # rechecked when the link is back
        else:
            self.hc.recheck([result.id])
        # one line per fault (a fault fails every check at once: thousands of them), the rest at debug
        level = logging.INFO if span != self._set_aside_said else logging.DEBUG
        self._set_aside_said = span
        log.log(
            level,
            "check %d failed while this node's link was down (%s): set aside, %s%s",
            result.id,
            result.message or "no message",
            "rechecked when it is back" if self.link_faults.ongoing else "rechecking now",
            "; so are the other checks that failed then" if level == logging.INFO else "",
        )
        return True

    def check_id(self, vserver: str, key: CheckKey) -> int:
        return self.hc.id_for(vserver, key)

    # --------------------------------------------------------------- overrides

    def set_override(self, target: int, name: str, state: int) -> str:
        """Apply an operator override; OverrideError if it names nothing known."""
        if target not in TARGET_NAMES or state not in STATE_NAMES:
            raise OverrideError(f"unknown override target {target} or state {state}")
        kind = TARGET_NAMES[target]
        if state != self.overrides.get(target, name) and not self._override_target_exists(target, name):
            raise OverrideError(f"{kind} {name!r} not found; see `show {kind}s` for the names")
        if not self._store_override(target, name, state):
            return f"{kind} {name}: override already {STATE_NAMES[state]}"
        log.info("override: %s %s set to %s", kind, name, STATE_NAMES[state])
        return f"{kind} {name}: override set to {STATE_NAMES[state]}"

    def sync_override(self, target: int, name: str, state: int) -> bool:
        """An override from the master (peer sync); True if it changed anything.

        Taken even when this node does not know the name (its config may lag
        the master's): it applies once the vserver or backend appears.
        """
        if target not in TARGET_NAMES or state not in STATE_NAMES or not name:
            return False
        if not self._store_override(target, name, state):
            return False
        log.info("override from the peer: %s %s set to %s", TARGET_NAMES[target], name, STATE_NAMES[state])
        return True

    def override_map(self) -> dict[tuple[int, str], int]:
        """Every override in force, by (target, name)."""
        return {(target, name): state for target, name, state in self.overrides.items()}

    def _store_override(self, target: int, name: str, state: int) -> bool:
        """Record an override and apply it to the vservers it touches; True if it changed."""
        if not self.overrides.set(target, name, state):
            return False
        self.overrides_version += 1
        if target == BACKEND:
            affected = list(self.machines.values())
        else:
            vserver = name if target == VSERVER else destination_vserver(name)
            affected = [self.machines[vserver]] if vserver in self.machines else []
        for machine in affected:
            self._apply_override(machine, target, name, state)
            self._refresh(machine)
        self.hc.rebuild()
        return True

    def restore_overrides(self, overrides: Overrides) -> None:
        """Overrides kept from a previous run (applied to vservers as they appear)."""
        self.overrides = overrides
        for machine in self.machines.values():
            self._apply_overrides(machine)
            self._refresh(machine)
        self.hc.rebuild()

    def _override_target_exists(self, target: int, name: str) -> bool:
        if target == VSERVER:
            return name in self.machines or (self.target is not None and name in self.target.vservers)
        if target == BACKEND:
            return any(d.backend.hostname == name for m in self.machines.values() for d in m.destinations())
        machine = self.machines.get(destination_vserver(name))
        return machine is not None and any(d.name == name for d in machine.destinations())

    def _apply_overrides(self, machine: VserverMachine) -> None:
        for target, name, state in self.overrides.items():
            self._apply_override(machine, target, name, state)

    @staticmethod
    def _apply_override(machine: VserverMachine, target: int, name: str, state: int) -> None:
        if target == VSERVER and name == machine.name:
            machine.handle_override(state)
        elif target == BACKEND:
            machine.set_backend_override(name, state)
        elif target == DESTINATION and destination_vserver(name) == machine.name:
            machine.set_destination_override(name, state)

    # ---------------------------------------------------------------------- HA

    def ha_session_opened(self) -> int:
        return self.ha.session_opened()

    def ha_session_closed(self, token: int) -> None:
        if self.ha.session_closed(token):
            self._link_fault("", self.clock.wall())  # HA is gone: nobody says the link is down any more
        if self.adoption is not None and self.ha.sessions == 0:
            self.adoption.release_lb("HA's session ended")
            self._end_adoption_if_done()

    def ha_report(self, status: ha_pb2.HAStatus) -> None:
        self.ha.handle_report(status)
        at = status.since_unix_ms / 1000 if status.since_unix_ms else self.clock.wall()
        self._link_fault(status.link_fault, at)
        if self.adoption is not None:
            self.adoption.release_lb(f"HA reported {HAState(status.state).name}")
            self._end_adoption_if_done()

    def ha_tick(self) -> None:
        if self.ha.tick():
            self._link_fault("", self.clock.wall())  # HA is gone: nobody says the link is down any more

    def _link_fault(self, fault: str, at: float) -> None:
        """HA's word on this node's link; when a fault ends, the checks set aside during it run again."""
        if self.link_faults.update(fault, at) and self._set_aside:
            log.info("rechecking %d checks whose failures came while this node's link was down", len(self._set_aside))
            self.hc.recheck(self._set_aside)
            self._set_aside.clear()

    def ha_config(self) -> ha_pb2.HAConfig:
        return ha_config(self.target, self.settings)

    def peer_name(self) -> str:
        """The other node(s), for messages that send the operator there."""
        me = self.this_node()
        if self.target is not None:
            others = [n.hostname for n in self.target.nodes.values() if me is None or n.hostname != me.hostname]
            if others:
                return " or ".join(sorted(others))
        peer = self.settings.peer_ipv4 or self.settings.peer_ipv6
        return str(peer) if peer else ""

    def request_failover(self) -> None:
        """Raise FailoverError unless this node is the leader and none is pending."""
        self.ha.request_failover(self.peer_name())

    def take_failover(self) -> bool:
        return self.ha.take_failover()

    # --------------------------------------------------------------------- NCC

    def lb_interface(self) -> ncc_pb2.LBInterface:
        s = self.settings
        node = self.this_node()
        lb = ncc_pb2.LBInterface(
            name=s.lb_interface,
            node_interface=s.node_interface,
            dummy_interface=s.dummy_interface,
            node_ipv4=_node_cidr(node, 4, s),
            node_ipv6=_node_cidr(node, 6, s),
            cluster_vip_ipv4=str(cluster_vip_ipv4(self.target, s) or ""),
            cluster_vip_ipv6=str(cluster_vip_ipv6(self.target, s) or ""),
            vrid=s.vrid,
            use_vmac=s.use_vmac,
            routing_table=s.routing_table,
            up=self.lb_up(),
            ha_since_unix_ms=self.ha.state_since_ms(),
        )
        if self.target is not None and node is not None and node.vservers_enabled:
            for vlan_id in sorted(self.target.vlans):
                host = self.target.vlans[vlan_id].host
                lb.vlans.append(
                    ncc_pb2.VLAN(
                        id=vlan_id,
                        ipv4=str(host.ipv4) if host.ipv4 else "",
                        ipv6=str(host.ipv6) if host.ipv6 else "",
                    )
                )
        return lb

    def lb_up(self) -> bool:
        """Whether the LB interface should be up: while HA says LEADER, or as adopted until HA reports."""
        held = self.adoption.lb_up if self.adoption is not None else None
        return self.ha.lb_up if held is None else held

    def arp_map(self) -> dict[str, list[str]]:
        """Interface -> IPv4 addresses to announce by gratuitous ARP while leader (not while handing over).

        The cluster VIP on the LB interface; without a VMAC also every unicast
        IPv4 VIP, on the VLAN interface whose subnet holds it (else the LB
        interface), as Seesaw's updateARPMap.
        """
        if not self.ha.announces:
            return {}
        lb = self.settings.lb_interface
        out: dict[str, list[str]] = {}
        vip = cluster_vip_ipv4(self.target, self.settings)
        if vip is not None:
            out[lb] = [str(vip)]
        if self.settings.use_vmac or self.cluster is None:
            return out
        for vs in self.cluster.vservers.values():
            for v in vs.vips.values():
                if v.ip.version != 4 or v.type != VIPType.UNICAST:
                    continue
                iface = lb
                for vlan_id, vlan in sorted(self.cluster.vlans.items()):
                    if vlan.host.ipv4 is not None and v.ip in vlan.host.ipv4.network:
                        iface = f"{lb}.{vlan_id}"
                        break
                out.setdefault(iface, []).append(str(v.ip))
        return out

    def pending_apply(self) -> ncc_pb2.ApplyRequest | None:
        """What NCC must be told now, or None if it is up to date.

        The caller sends it and reports back with `apply_done` or
        `apply_failed`; until then the same changes are not offered twice.
        """
        if self.target is None:
            return None
        lb = self.lb_interface()
        if self._resync:
            req = ncc_pb2.ApplyRequest(lb=lb, has_lb=True, replace_all=True)
            for name in sorted(self.machines):
                part = self.machines[name].partition()
                if _has_content(part):
                    req.partitions.append(part)
            marks = self.hc.partition()
            if _has_content(marks):
                req.partitions.append(marks)
            service_anycast = anycast.service_partition(self.target, self.settings)
            if _has_content(service_anycast):
                req.partitions.append(service_anycast)
            req.bgp.CopyFrom(self.bgp_config())
            req.has_bgp = True
            self._dirty.clear()
            return req
        req = ncc_pb2.ApplyRequest()
        for pname in sorted(self._dirty):
            part = self._render(pname)
            if self._applied.get(pname, ncc_pb2.Partition(name=pname)) != part:
                req.partitions.append(part)
        self._dirty.clear()
        if lb != self._applied_lb:
            req.lb.CopyFrom(lb)
            req.has_lb = True
        bgp = self.bgp_config()
        if bgp != self._applied_bgp:
            req.bgp.CopyFrom(bgp)
            req.has_bgp = True
        if not req.partitions and not req.has_lb and not req.has_bgp:
            return None
        return req

    def bgp_config(self) -> ncc_pb2.BGPConfig:
        """What NCC should make the BGP speaker hold: peers, and anycast VIPs while healthy (`anycast`)."""
        return anycast.bgp_config(self.target, self.settings, self.machines.values())

    def _render(self, pname: str) -> ncc_pb2.Partition:
        if pname == MARKS_PARTITION:
            return self.hc.partition()
        if pname == anycast.PARTITION:
            return anycast.service_partition(self.target, self.settings)
        machine = self.machines.get(pname.removeprefix("vserver:"))
        if machine is None or partition_name(machine.name) != pname:
            return ncc_pb2.Partition(name=pname)
        return machine.partition()

    def apply_done(self, req: ncc_pb2.ApplyRequest, resp: ncc_pb2.ApplyResponse) -> None:
        """NCC took `req`; object errors in `resp` are kept and those partitions offered again."""
        if req.replace_all:
            self._applied = {}
            self._resync = False
        for part in req.partitions:
            if _has_content(part):
                self._applied[part.name] = part
            else:
                self._applied.pop(part.name, None)
        if req.has_lb:
            self._applied_lb = ncc_pb2.LBInterface()
            self._applied_lb.CopyFrom(req.lb)
        if req.has_bgp:
            self._applied_bgp = ncc_pb2.BGPConfig()
            self._applied_bgp.CopyFrom(req.bgp)
        self.ncc.applies_total += 1
        self.ncc.error = ""
        self.ncc.error_since_unix_ms = 0
        errors = []
        for err in resp.errors:
            errors.append(f"{err.partition or '-'}: {err.kind} {err.key}: {err.message}")
            if err.partition:
                self._applied.pop(err.partition, None)
                self._dirty.add(err.partition)
            elif err.kind == "lb":
                self._applied_lb = None
            elif err.kind == "bgp":
                self._applied_bgp = None
        self.ncc.object_errors = tuple(errors)

    def apply_failed(self, req: ncc_pb2.ApplyRequest, error: str) -> None:
        """NCC did not take `req`: offer the same changes again later."""
        for part in req.partitions:
            self._dirty.add(part.name)
        if req.has_lb:
            self._applied_lb = None
        if req.has_bgp:
            self._applied_bgp = None
        if req.replace_all:
            self._resync = True
        self.ncc.apply_errors_total += 1
        if not self.ncc.error:
            self.ncc.error_since_unix_ms = int(self.clock.wall() * 1000)
        self.ncc.error = error

    def ncc_connected(self, dataplane: str = "") -> None:
        """A (new) connection to NCC: it gets the whole state next."""
        self.ncc.connected = True
        if dataplane:
            self.ncc.dataplane = dataplane
        self._resync = True

    def applied_partitions(self) -> set[str]:
        return set(self._applied)

    # ---------------------------------------------------------------- adoption

    @property
    def needs_adoption(self) -> bool:
        """True until the NCC link has handed over NCC's state (or said it cannot): nothing is applied before."""
        return self._adopt_pending

    def adopt(self, state: ncc_pb2.DataplaneState | None) -> None:
        """A warm restart: what NCC holds (None: it could not say) stands until HA and the checks report."""
        if not self._adopt_pending:
            return
        self._adopt_pending = False
        if state is None:
            return
        snapshot = DataplaneSnapshot.from_state(state)
        self.hc.adopt_marks(marks_held(state))  # the probe marks NCC holds stay: no rewrite of their services
        self._dirty.add(MARKS_PARTITION)
        hold_lb = not self.ha.reported and self.ha.state != HAState.DISABLED
        self.adoption = Adoption(
            snapshot,
            self.clock,
            lb_interface=self.settings.lb_interface,
            hold_lb=hold_lb,
            lb_hold=self._lb_hold,
            margin=self._adoption_margin,
        )
        for machine in self.machines.values():
            machine.adopt(snapshot)
            self._dirty.add(partition_name(machine.name))
        if self.target is not None and self._provisional_waiting() == 0:
            self.adoption.release_health()  # nothing of ours there, or every check has reported already
        held = self.adoption.lb_up
        log.info(
            "adopted the dataplane: %d services, %d destinations held until their checks report%s",
            len(snapshot.services),
            len(snapshot.destinations),
            "" if held is None else f"; LB interface held {'up' if held else 'down'} until HA reports",
        )
        self._end_adoption_if_done()

    def adoption_tick(self) -> bool:
        """End the holds whose time is up; True if anything changed."""
        if self.adoption is None:
            return False
        lb, health = self.adoption.tick(self._longest_check())
        if health:
            log.info("adoption: provisional health ends; checks that never reported count as failing now")
            self._end_provisional_health()
        self._end_adoption_if_done()
        return lb or health

    def _end_provisional_health(self) -> None:
        for machine in self.machines.values():
            machine.end_adoption()
            self._dirty.add(partition_name(machine.name))

    def _end_adoption_if_done(self) -> None:
        if self.adoption is not None and self.adoption.done:
            self.adoption = None

    def _provisional_waiting(self) -> int:
        """Adopted destinations with a check that has not reported yet."""
        return sum(
            1
            for m in self.machines.values()
            for d in m.destinations()
            if d.provisional and any(c.status.state == common_pb2.HEALTH_UNKNOWN for c in d.checks)
        )

    def _longest_check(self) -> float:
        """The longest interval + timeout of any check in force (0 without checks)."""
        return max(
            (c.healthcheck.interval + c.healthcheck.timeout for m in self.machines.values() for c in m.checks.values()),
            default=0.0,
        )

    def ncc_disconnected(self, error: str) -> None:
        self.ncc.connected = False
        if not self.ncc.error:
            self.ncc.error_since_unix_ms = int(self.clock.wall() * 1000)
        self.ncc.error = error
        self._resync = True

    # ------------------------------------------------------------------- views

    def warnings(self) -> list[str]:
        """Everything an operator should know is wrong, one line each."""
        out: list[str] = []
        if self.target is not None:
            out.extend(self.target.warnings)
            for name in sorted(self.target.vservers):
                out.extend(f"{name}: {w}" for w in self.target.vservers[name].warnings)
        if self.config_info.last_error:
            problems = self.config_info.last_error.splitlines()
            running = "the running config stays in force" if self.target is not None else "no config is running"
            out.append(
                f"config: the last config was refused ({running}): {problems[0]}"
                + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
            )
        out.extend(self.config_info.file_warnings)
        if self._node_warning:
            out.append(self._node_warning)
        if self.settings.unknown_keys:
            out.append(f"seesaw.cfg: unknown keys ignored: {', '.join(self.settings.unknown_keys)}")
        adds, dels = self.config_pending()
        if adds or dels:
            out.append(
                f"config: {adds} vserver creations and {dels} deletions are waiting for the churn limit "
                f"({self.settings.max_vserver_changes} per step, [engine] max_vserver_changes in seesaw.cfg)"
            )
        if self.ncc.error:
            out.append(f"NCC: {self.ncc.error} (retrying)")
        if self.sync_warning:
            out.append(f"sync: {self.sync_warning}")
        if self.target is not None and self.ha.state != HAState.DISABLED and self.ha.sessions == 0:
            out.append("HA: seesaw-ha is not connected, so this node cannot become master (is it running?)")
        if self.adoption is not None:
            out.extend(self._adoption_warnings())
        if self.hc.configs() and self.healthcheck_sessions == 0:
            out.append(
                "healthcheck: seesaw-healthcheck is not connected, so backend health is not being checked "
                "(is it running?)"
            )
        out.extend(f"NCC: {e}" for e in self.ncc.object_errors)
        return out

    def _adoption_warnings(self) -> list[str]:
        assert self.adoption is not None
        out = []
        now = self.clock.monotonic()
        deadline = self.adoption.health_deadline(self._longest_check())
        held = self._provisional_waiting()
        if deadline is not None and held:
            out.append(
                f"adoption: {held} destinations are kept as the dataplane had them until their checks report "
                f"(at most {max(deadline - now, 0):.0f} s more; the engine restarted)"
            )
        if self.adoption.lb_up is not None:
            out.append(
                "adoption: the LB interface is kept as the dataplane had it until HA reports (is seesaw-ha running?)"
            )
        return out


def _has_content(part: ncc_pb2.Partition) -> bool:
    return bool(part.services or part.vips or part.filters)


def _node_cidr(node: Node | None, version: int, settings: Settings) -> str:
    if node is not None:
        addr = node.host.ipv4 if version == 4 else node.host.ipv6
        if addr is not None:
            return str(addr)
    ip = settings.node_ipv4 if version == 4 else settings.node_ipv6
    if ip is None:
        return ""
    return f"{ip}/{ip.max_prefixlen}"
