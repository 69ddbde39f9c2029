"""The engine's view of HA: which state this node is in, and what follows.

Rules this file keeps (Seesaw v2's `engine/ha.go`, tightened):

* The engine starts UNKNOWN. A node the cluster config marks as HA-disabled
  is DISABLED, and from DISABLED only re-enabling (back to UNKNOWN) leads
  anywhere: reports from HA are ignored meanwhile.
* HA reports its status over one session; the state it reports becomes ours.
* When that session ends, or no report arrives for `timeout` seconds, the
  node is no longer known to be the leader: it becomes UNKNOWN at once, and
  with it the LB interface goes down (Seesaw kept it up for 30 s after HA
  died, so both nodes could own the VMAC).
* The LB interface is up exactly while the state is LEADER. A leader that
  is handing over (make before break) keeps it up but sends no gratuitous
  ARP: that would call the clients back from the new master.
* A failover request is accepted only on the leader and only once until HA
  picks it up.

`ha_config` derives the HAConfig that HA runs with from the cluster and the
node's settings (with the make-before-break hold: none with a VMAC).
Nothing here does I/O; time comes from the injected clock.
"""

from __future__ import annotations

import ipaddress
import logging

from seesaw.common.clock import Clock
from seesaw.config.model import Cluster, HAState, Node
from seesaw.config.settings import Settings
from seesaw.pb import ha_pb2

log = logging.getLogger(__name__)

VRRP_MULTICAST = "224.0.0.18"
DEFAULT_TIMEOUT = 30.0
HANDOVER_HOLD_ADVERTS = 3  # advert intervals a failing-over master keeps serving at most


class FailoverError(Exception):
    """A failover request that cannot be honoured; the text says why."""


class HAStateMachine:
    def __init__(self, clock: Clock, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._clock = clock
        self.timeout = timeout
        self.state = HAState.UNKNOWN
        self.since = clock.wall()
        self._last_update = clock.monotonic()
        self._last_update_wall = clock.wall()
        self.report = ha_pb2.HAStatus()
        self.failover_pending = False
        self.sessions = 0
        self._session = 0
        self.reported = False  # HA has reported at least once since the engine started

    @property
    def lb_up(self) -> bool:
        return self.state == HAState.LEADER

    @property
    def announces(self) -> bool:
        """Whether to send gratuitous ARP for the VIPs: as leader, but not while handing over to the peer."""
        return self.lb_up and not self.report.handing_over

    # ----------------------------------------------------------------- events

    def set_enabled(self, enabled: bool) -> bool:
        """The config says HA is on or off for this node; True if the state changed."""
        if not enabled:
            return self._set_state(HAState.DISABLED)
        if self.state == HAState.DISABLED:
            return self._set_state(HAState.UNKNOWN)
        return False

    def session_opened(self) -> int:
        """An HA session started; returns its token for `session_closed`."""
        self._session += 1
        self.sessions += 1
        return self._session

    def session_closed(self, token: int) -> bool:
        """An HA session ended; True if the state changed.

        Only the newest session speaks for HA: the end of an older one that
        a reconnect replaced changes nothing.
        """
        self.sessions = max(self.sessions - 1, 0)
        if token != self._session or self.state == HAState.DISABLED:
            return False
        log.warning("HA session ended: leaving %s for UNKNOWN, LB interface down", self.state.name)
        self.failover_pending = False
        return self._set_state(HAState.UNKNOWN)

    def handle_report(self, status: ha_pb2.HAStatus) -> bool:
        """A status report from HA; True if the state changed."""
        if self.state == HAState.DISABLED:
            log.warning("ignoring HA report %s: HA is disabled for this node", HAState(status.state).name)
            return False
        self.reported = True
        self.report = ha_pb2.HAStatus()
        self.report.CopyFrom(status)
        changed = self._set_state(HAState(status.state))
        self._touch()
        return changed

    def tick(self) -> bool:
        """Expire a silent HA; True if the state changed."""
        if self.state in (HAState.DISABLED, HAState.UNKNOWN):
            return False
        if self._clock.monotonic() - self._last_update < self.timeout:
            return False
        log.warning("no HA report for %.0f s: leaving %s for UNKNOWN", self.timeout, self.state.name)
        return self._set_state(HAState.UNKNOWN)

    def deadline(self) -> float | None:
        """Monotonic time at which `tick` would expire the state, if it can."""
        if self.state in (HAState.DISABLED, HAState.UNKNOWN):
            return None
        return self._last_update + self.timeout

    def request_failover(self, peer: str = "") -> None:
        if self.state != HAState.LEADER:
            where = f" run failover on {peer}" if peer else " run failover on the master node"
            raise FailoverError(f"This node is not the master (it is {self.state.name});{where}")
        if self.failover_pending:
            raise FailoverError("A failover request is already pending; HA will act on it within a moment")
        self.failover_pending = True

    def take_failover(self) -> bool:
        """True once per accepted failover request (HA is told to give up mastership)."""
        pending = self.failover_pending
        self.failover_pending = False
        return pending

    # ------------------------------------------------------------------ views

    def state_since_ms(self) -> int:
        """When the state `lb_up` follows began, in wall-clock ms: HA's own time for a state HA reported, the
        engine's for one it took itself (UNKNOWN when HA went away). NCC weighs HA's takeovers against it."""
        if self.reported and self.state == HAState(self.report.state) and self.report.since_unix_ms:
            return self.report.since_unix_ms
        return int(self.since * 1000)

    def status(self) -> ha_pb2.HAStatus:
        out = ha_pb2.HAStatus()
        out.CopyFrom(self.report)
        out.state = int(self.state)
        out.since_unix_ms = int(self.since * 1000)
        out.last_update_unix_ms = int(self._last_update_wall * 1000)
        return out

    def _set_state(self, state: HAState) -> bool:
        if state == self.state:
            return False
        if self.state == HAState.DISABLED and state != HAState.UNKNOWN:
            log.warning("invalid HA state transition %s -> %s", self.state.name, state.name)
            return False
        log.info("HA state transition %s -> %s", self.state.name, state.name)
        if state != HAState.LEADER:
            self.failover_pending = False
        self.state = state
        self.since = self._clock.wall()
        self._touch()
        return True

    def _touch(self) -> None:
        self._last_update = self._clock.monotonic()
        self._last_update_wall = self._clock.wall()


def this_node(cluster: Cluster | None, settings: Settings) -> Node | None:
    """The cluster's node entry for this machine (matched by node_ipv4, then node_ipv6)."""
    if cluster is None:
        return None
    for ip in (settings.node_ipv4, settings.node_ipv6):
        if ip is not None:
            node = cluster.node_by_ip(ip)
            if node is not None:
                return node
    return None


def ha_config(cluster: Cluster | None, settings: Settings) -> ha_pb2.HAConfig:
    """The HAConfig HA should run with (disabled while this node is unknown)."""
    node = this_node(cluster, settings)
    remote = settings.unicast_peers[0] if settings.unicast_peers else VRRP_MULTICAST
    cfg = ha_pb2.HAConfig(
        enabled=node is not None and node.state != HAState.DISABLED,
        local_address=str(settings.node_ipv4) if settings.node_ipv4 else "",
        remote_address=remote,
        interface=settings.node_interface,
        priority=ha_priority(cluster, node, settings.priorities),
        vrid=settings.vrid,
        advert_interval_ms=settings.advert_interval_ms,
        preempt=settings.preempt,
        format=ha_pb2.HAConfig.RFC5798 if settings.advert_format.lower() == "rfc5798" else ha_pb2.HAConfig.SEESAW,
        unicast_peers=list(settings.unicast_peers),
        takeover_skew=settings.takeover_skew,
        handover_hold_ms=handover_hold_ms(settings),
        realtime_priority=settings.realtime_priority,
    )
    vip = cluster_vip_ipv4(cluster, settings)
    if vip is not None:
        cfg.addresses.append(str(vip))
    return cfg


def ha_priority(cluster: Cluster | None, node: Node | None, scheme: str) -> int:
    """This node's VRRP priority: Seesaw's (255, then nodes-1 .. 1 by address) or `adjacent` ones.

    Both keep Seesaw's order (lowest IPv4 first). Adjacent priorities (255, 254, ..) shorten a
    backup's RFC 5798 master-down interval: the skew, (256 - priority) / 256 advert intervals, is
    99.6 % of an interval at Seesaw's priority 1 and 0.8 % at 254. Mixing schemes within one cluster
    keeps the order for two nodes, not always for more.
    """
    if cluster is None or node is None:
        return 0
    if scheme != "adjacent" or node.priority == 255:
        return node.priority
    above = sum(1 for other in cluster.nodes.values() if other.priority > node.priority)
    return max(1, 255 - above)


def handover_hold_ms(settings: Settings) -> int:
    """How long a master that fails over keeps serving until it hears the new one (make before break).

    3 advert intervals, and 0 with a VMAC: the VMAC must never be up on two nodes on one L2.
    """
    if settings.use_vmac or not settings.make_before_break:
        return 0
    return HANDOVER_HOLD_ADVERTS * settings.advert_interval_ms


def cluster_vip_ipv4(cluster: Cluster | None, settings: Settings) -> ipaddress.IPv4Address | None:
    if settings.vip_ipv4 is not None:
        return settings.vip_ipv4
    if cluster is not None and cluster.vip.ipv4 is not None:
        return cluster.vip.ipv4.ip
    return None


def cluster_vip_ipv6(cluster: Cluster | None, settings: Settings) -> ipaddress.IPv6Address | None:
    if settings.vip_ipv6 is not None:
        return settings.vip_ipv6
    if cluster is not None and cluster.vip.ipv6 is not None:
        return cluster.vip.ipv6.ip
    return None
