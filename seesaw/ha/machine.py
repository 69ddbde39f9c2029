"""The VRRP election as a pure state machine: events in, actions out.

Rules this file keeps:

* Everything that affects a transition lives here. The shell around it
  (seesaw.ha.node) only turns packets and timer expiries into events and
  carries out the actions, in order.
* No sockets, no sleeps, no reading of the time except through the injected
  clock; one timer at a time (`SetTimer` replaces the previous one).
* This file does not know where adverts go or how they are encoded.

States: INIT -> BACKUP <-> LEADER -> SHUTDOWN (and back to BACKUP on Start),
and FAULT from BACKUP or LEADER while the node interface is down.

* BACKUP waits master-down = 3 x the master's advertised interval + skew,
  skew = (256 - priority) x interval / 256 (RFC 5798), from the last advert of
  the master; silence for that long => LEADER. A priority-0 advert (the
  master is leaving) => LEADER at once, as Seesaw v2 did: a pair has no one to
  contend with. `takeover_skew` keeps RFC 5798's wait for the skew instead
  (groups of three or more nodes). With preempt, a lower-priority advert =>
  LEADER at once (Seesaw's behaviour, not the RFC's "wait for the timer").
* LEADER sends an advert on entry and every interval. A higher-priority
  advert, or an equal-priority one from a higher primary address (the RFC
  tie-break Seesaw lacked) => BACKUP. A priority-0 advert from a leaving
  peer is answered with an advert at once.
* Stop (graceful shutdown, engine gone) and Failover (operator) make a
  LEADER send a priority-0 advert so the peer takes over without waiting.
  After a Failover this node does not preempt back until it next becomes
  LEADER on its own (the operator asked for the peer to lead).
* Make before break: with `handover_hold_ms`, a Failover keeps this node
  LEADER (still serving) but silent except for a priority-0 advert every
  interval, until it has heard the new master and one interval more (its
  first advert comes before its LB interface and gratuitous ARP), or the
  hold runs out; then BACKUP. Without a hold (the VMAC must never be up on
  two nodes) BACKUP at once.
* LinkDown (the node interface lost its carrier or went down) => FAULT from
  any running state: no adverts, not LEADER, no timer. LinkUp => BACKUP
  again, waiting master-down like a fresh start (so with preempt off it stays
  BACKUP behind the master that took over meanwhile).
* Reconfigure applies a new config in place, in any state: never by
  restarting the process, as Seesaw did.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field

from seesaw.common.clock import Clock
from seesaw.ha.packet import MAX_ADDRESSES, MAX_INTERVAL_CS, Advert, Drop, DropReason, Received
from seesaw.pb import common_pb2

DOWN_INTERVAL_ADVERTS = 3  # RFC 5798: master-down = 3 x advert interval + skew


class State(enum.IntEnum):
    """The election's states; values are the `seesaw.common.HaState` they are reported as."""

    INIT = common_pb2.HA_UNKNOWN
    BACKUP = common_pb2.HA_BACKUP
    LEADER = common_pb2.HA_LEADER
    SHUTDOWN = common_pb2.HA_SHUTDOWN
    FAULT = common_pb2.HA_ERROR  # the node interface is down: out of the election until it is back


@dataclass(frozen=True)
class ElectionConfig:
    """What the election needs to know; checked on construction."""

    local_address: str
    priority: int
    vrid: int
    advert_interval_ms: int = 500
    preempt: bool = False
    addresses: tuple[str, ...] = ()  # carried in adverts (RFC 5798 format); empty for Seesaw's
    takeover_skew: bool = False  # wait RFC 5798's skew after a priority-0 advert (else take over at once)
    handover_hold_ms: int = 0  # after a Failover, stay LEADER until the new master is heard, at most this long

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.local_address)
        except ValueError:
            raise ValueError(f"HA local address {self.local_address!r} is not an IP address: set node_ipv4") from None
        if not 1 <= self.priority <= 255:
            raise ValueError(f"HA priority {self.priority} is out of range: use 1..255")
        if not 1 <= self.vrid <= 255:
            raise ValueError(f"HA VRID {self.vrid} is out of range: set vrid in seesaw.cfg to 1..255")
        if not 10 <= self.advert_interval_ms <= MAX_INTERVAL_CS * 10:
            raise ValueError(
                f"HA advert interval {self.advert_interval_ms} ms is out of range: use 10..{MAX_INTERVAL_CS * 10} ms"
            )
        if len(self.addresses) > MAX_ADDRESSES:
            raise ValueError(f"{len(self.addresses)} VRRP addresses do not fit an advert: use at most {MAX_ADDRESSES}")
        if not 0 <= self.handover_hold_ms <= MAX_INTERVAL_CS * 10 * DOWN_INTERVAL_ADVERTS:
            raise ValueError(f"HA hand-over hold {self.handover_hold_ms} ms is out of range: use 0 (none) or more")

    @property
    def interval(self) -> float:
        """The advert interval in seconds, as sent (whole centiseconds)."""
        return self.interval_cs / 100

    @property
    def interval_cs(self) -> int:
        return max(1, round(self.advert_interval_ms / 10))


# Events -------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Begin (or resume after Stop) the election, as BACKUP."""


@dataclass(frozen=True)
class Stop:
    """Leave the election: graceful shutdown, or the engine went away."""


@dataclass(frozen=True)
class Failover:
    """The operator asked this node to give up mastership."""


@dataclass(frozen=True)
class TimerFired:
    """The deadline of the last `SetTimer` has passed (early or spurious firings are harmless)."""


@dataclass(frozen=True)
class Reconfigure:
    config: ElectionConfig


@dataclass(frozen=True)
class LinkDown:
    """The node interface cannot carry adverts (no carrier, down, gone); `reason` says which."""

    reason: str


@dataclass(frozen=True)
class LinkUp:
    """The node interface carries adverts again."""


Event = Start | Stop | Failover | TimerFired | Reconfigure | Received | Drop | LinkDown | LinkUp


# Actions ------------------------------------------------------------------


@dataclass(frozen=True)
class SendAdvert:
    advert: Advert


@dataclass(frozen=True)
class SetTimer:
    """Deliver `TimerFired` at `deadline` (the clock's monotonic seconds); replaces any earlier timer."""

    deadline: float


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class BecomeLeader:
    pass


@dataclass(frozen=True)
class BecomeBackup:
    pass


@dataclass(frozen=True)
class BecomeShutdown:
    pass


@dataclass(frozen=True)
class BecomeFault:
    reason: str


@dataclass(frozen=True)
class ReportStatus:
    """Tell the engine now (a transition happened)."""


Action = SendAdvert | SetTimer | CancelTimer | BecomeLeader | BecomeBackup | BecomeShutdown | BecomeFault | ReportStatus


@dataclass(frozen=True)
class Status:
    """A snapshot of the election and its counters."""

    state: State
    since: float  # wall time of the last transition
    transitions: int
    sent: int
    received: int
    dropped: dict[str, int] = field(default_factory=dict)
    last_takeover: float | None = None  # seconds, of the last BACKUP -> LEADER
    master_address: str = ""
    master_down_interval: float = 0.0
    handing_over: bool = False  # LEADER after a Failover, until the new master is heard
    fault: str = ""  # why the node is in FAULT


class Machine:
    """One node's side of the election. Feed it events with `handle`; carry out what it returns."""

    def __init__(self, config: ElectionConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._state = State.INIT
        self._since = clock.wall()
        self._transitions = 0
        self._sent = 0
        self._received = 0
        self._dropped: dict[str, int] = {}
        self._last_takeover: float | None = None
        self._master_address = ""
        self._master_interval = config.interval  # Master_Adver_Interval: learned from the master
        self._deadline: float | None = None  # BACKUP: master down; LEADER: next advert
        self._last_master_seen: float | None = None  # when the master last spoke (or said priority 0)
        self._yielded = False  # after a Failover, do not preempt back
        self._handover_until: float | None = None  # LEADER handing over (make before break) until then
        self._successor_heard = False  # ... and the new master has spoken
        self._link_fault = ""  # why the node interface cannot carry adverts; empty while it can

    # -- public surface ----------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def config(self) -> ElectionConfig:
        return self._config

    def master_down_interval(self) -> float:
        return DOWN_INTERVAL_ADVERTS * self._master_interval + self._skew()

    def status(self) -> Status:
        return Status(
            state=self._state,
            since=self._since,
            transitions=self._transitions,
            sent=self._sent,
            received=self._received,
            dropped=dict(self._dropped),
            last_takeover=self._last_takeover,
            master_address=self._master_address,
            master_down_interval=self.master_down_interval(),
            handing_over=self._handover_until is not None,
            fault=self._link_fault if self._state == State.FAULT else "",
        )

    def handle(self, event: Event) -> list[Action]:
        match event:
            case Received():
                return self._on_advert(event)
            case Drop(reason=reason, count=count):
                self._dropped[reason.value] = self._dropped.get(reason.value, 0) + count
                return []
            case TimerFired():
                return self._on_timer()
            case Start():
                return self._on_start()
            case Stop():
                return self._on_stop()
            case Failover():
                return self._on_failover()
            case Reconfigure(config=config):
                return self._on_reconfigure(config)
            case LinkDown(reason=reason):
                return self._on_link_down(reason)
            case LinkUp():
                return self._on_link_up()
        raise TypeError(f"not an HA event: {event!r}")

    # -- transitions -------------------------------------------------------

    def _on_start(self) -> list[Action]:
        if self._state not in (State.INIT, State.SHUTDOWN):
            return []
        self._yielded = False
        self._last_master_seen = None
        self._master_address = ""
        self._master_interval = self._config.interval
        if self._link_fault:
            return self._become_fault()
        return self._become_backup(self._clock.monotonic())

    def _on_link_down(self, reason: str) -> list[Action]:
        self._link_fault = reason or "the node interface is down"
        if self._state not in (State.BACKUP, State.LEADER):
            return []
        return self._become_fault()

    def _on_link_up(self) -> list[Action]:
        self._link_fault = ""
        if self._state != State.FAULT:
            return []
        self._yielded = False
        self._last_master_seen = None
        self._master_address = ""
        self._master_interval = self._config.interval
        return self._become_backup(self._clock.monotonic())

    def _on_stop(self) -> list[Action]:
        if self._state == State.SHUTDOWN:
            return []
        actions: list[Action] = []
        if self._state == State.LEADER:
            actions.append(self._send(priority=0))
        self._set_state(State.SHUTDOWN)
        self._deadline = None
        self._handover_until = None
        self._successor_heard = False
        self._master_address = ""
        return [*actions, CancelTimer(), BecomeShutdown(), ReportStatus()]

    def _on_failover(self) -> list[Action]:
        if self._state != State.LEADER or self._handover_until is not None:
            return []
        farewell = self._send(priority=0)
        self._yielded = True
        self._last_master_seen = None
        now = self._clock.monotonic()
        if self._config.handover_hold_ms > 0:
            # Make before break: keep serving until the new master speaks (or the hold runs out).
            self._handover_until = now + self._config.handover_hold_ms / 1000
            self._deadline = min(now + self._config.interval, self._handover_until)
            return [farewell, SetTimer(self._deadline), ReportStatus()]
        return [farewell, *self._become_backup(now)]

    def _on_timer(self) -> list[Action]:
        now = self._clock.monotonic()
        if self._deadline is None:
            return []
        if now < self._deadline:
            return [SetTimer(self._deadline)]
        if self._state == State.BACKUP:
            return self._become_leader(now)
        if self._state == State.LEADER and self._handover_until is not None:
            if now >= self._handover_until:
                return self._end_handover(now)
            self._deadline = min(now + self._config.interval, self._handover_until)
            if self._successor_heard:
                return [SetTimer(self._deadline)]
            return [self._send(priority=0), SetTimer(self._deadline)]  # say it again, in case it was lost
        if self._state == State.LEADER:
            self._deadline += self._config.interval
            if self._deadline <= now:  # fell behind (a stall): do not send a burst to catch up
                self._deadline = now + self._config.interval
            return [self._send(), SetTimer(self._deadline)]
        return []

    def _on_advert(self, received: Received) -> list[Action]:
        advert = received.advert
        if advert.vrid != self._config.vrid:  # decoded against a config that has since changed
            self._dropped[DropReason.VRID.value] = self._dropped.get(DropReason.VRID.value, 0) + 1
            return []
        self._received += 1
        now = self._clock.monotonic()
        if self._state == State.BACKUP:
            return self._backup_advert(received, now)
        if self._state == State.LEADER:
            return self._leader_advert(received, now)
        return []

    def _backup_advert(self, received: Received, now: float) -> list[Action]:
        advert = received.advert
        if advert.priority == 0:
            # The master is leaving: take over now (RFC 5798: after the skew alone).
            self._last_master_seen = now
            if not self._config.takeover_skew:
                return self._become_leader(now)
            self._deadline = now + self._skew()
            return [SetTimer(self._deadline)]
        if self._config.preempt and not self._yielded and advert.priority < self._config.priority:
            self._last_master_seen = now
            return self._become_leader(now)
        self._heard_master(received, now)
        self._deadline = now + self.master_down_interval()
        return [SetTimer(self._deadline)]

    def _leader_advert(self, received: Received, now: float) -> list[Action]:
        advert = received.advert
        if self._handover_until is not None:
            if advert.priority == 0:
                return []
            self._heard_master(received, now)
            if self._successor_heard:
                return []
            # The new master speaks; its LB interface and gratuitous ARP follow: serve one interval more.
            self._successor_heard = True
            self._handover_until = self._deadline = min(self._handover_until, now + self._config.interval)
            return [SetTimer(self._deadline)]
        if advert.priority == 0:
            # A peer that thought it led is leaving: make sure everyone hears the real leader now.
            self._deadline = now + self._config.interval
            return [self._send(), SetTimer(self._deadline)]
        mine = self._config.priority
        if advert.priority > mine or (advert.priority == mine and self._outranks_me(received.source)):
            self._heard_master(received, now)
            return self._become_backup(now, from_master=True)
        return []

    def _on_reconfigure(self, config: ElectionConfig) -> list[Action]:
        old, self._config = self._config, config
        if config == old:
            return []
        now = self._clock.monotonic()
        if self._state == State.BACKUP:
            if config.vrid != old.vrid:
                # Another virtual router: nothing heard on it yet.
                self._master_address = ""
                self._last_master_seen = None
                self._master_interval = config.interval
            elif self._last_master_seen is None:
                self._master_interval = config.interval
            since = self._last_master_seen if self._last_master_seen is not None else now
            self._deadline = max(now, since + self.master_down_interval())
            return [SetTimer(self._deadline)]
        if self._state == State.LEADER and self._handover_until is not None:
            self._handover_until = min(self._handover_until, now + config.handover_hold_ms / 1000)
            self._deadline = min(self._deadline or self._handover_until, self._handover_until)
            return [SetTimer(self._deadline)]
        if self._state == State.LEADER:
            self._master_address = config.local_address
            self._master_interval = config.interval
            if (config.vrid, config.priority, config.interval_cs, config.addresses) != (
                old.vrid,
                old.priority,
                old.interval_cs,
                old.addresses,
            ):
                self._deadline = now + config.interval
                return [self._send(), SetTimer(self._deadline)]
        return []

    # -- helpers -----------------------------------------------------------

    def _become_leader(self, now: float) -> list[Action]:
        if self._last_master_seen is not None:
            self._last_takeover = now - self._last_master_seen
        self._set_state(State.LEADER)
        self._yielded = False
        self._master_address = self._config.local_address
        self._master_interval = self._config.interval
        self._deadline = now + self._config.interval
        return [BecomeLeader(), self._send(), SetTimer(self._deadline), ReportStatus()]

    def _end_handover(self, now: float) -> list[Action]:
        heard, self._successor_heard = self._successor_heard, False
        self._handover_until = None
        return self._become_backup(now, from_master=heard)

    def _become_fault(self) -> list[Action]:
        self._set_state(State.FAULT)
        self._deadline = None
        self._handover_until = None
        self._successor_heard = False
        self._master_address = ""
        return [CancelTimer(), BecomeFault(self._link_fault), ReportStatus()]

    def _become_backup(self, now: float, from_master: bool = False) -> list[Action]:
        if not from_master:
            self._master_address = ""
        self._handover_until = None
        self._successor_heard = False
        self._set_state(State.BACKUP)
        since = self._last_master_seen if from_master and self._last_master_seen is not None else now
        self._deadline = since + self.master_down_interval()
        return [BecomeBackup(), SetTimer(self._deadline), ReportStatus()]

    def _heard_master(self, received: Received, now: float) -> None:
        if received.advert.interval_cs > 0:
            self._master_interval = received.advert.interval_cs / 100
        self._last_master_seen = now
        self._master_address = received.source

    def _set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self._since = self._clock.wall()
            self._transitions += 1

    def _send(self, priority: int | None = None) -> SendAdvert:
        self._sent += 1
        config = self._config
        chosen = config.priority if priority is None else priority
        return SendAdvert(Advert(config.vrid, chosen, config.interval_cs, config.addresses))

    def _skew(self) -> float:
        return (256 - self._config.priority) * self._master_interval / 256

    def _outranks_me(self, source: str) -> bool:
        """RFC 5798 6.4.3: on equal priority, the higher primary address wins."""
        try:
            theirs, mine = ipaddress.ip_address(source), ipaddress.ip_address(self._config.local_address)
        except ValueError:
            return False
        return theirs.version == mine.version and theirs.packed > mine.packed
