"""The per-vserver state machine: config, check results and overrides in;
desired dataplane partition and operator snapshot out.

Rules this file keeps (Seesaw v2's `engine/vserver.go`, made declarative):

* A vserver expands into one service per address family of its VIP and per
  entry (port/protocol), or one fwmark service per family for `use_fwm`
  vservers; each service into one destination per backend with an address in
  that family; each destination of an *enabled* backend into its checks
  (vserver-level checks, shared by every service of that VIP and backend,
  plus the entry's own checks).
* Health flows upwards. A destination is healthy when it is enabled and all
  its checks are healthy (a destination with no checks is healthy: Seesaw
  left it down forever). A service is healthy when enough of its in-service
  backends are healthy, with hysteresis: the low watermark keeps a healthy
  service up, the high one brings an unhealthy one up, 0 means "at least
  one". An anycast VIP is healthy when all its services are, a unicast or
  dedicated VIP when any of them is.
* Activity flows downwards. Only an active VIP has active services, only an
  active service has active destinations, and only healthy things are made
  active. Unicast and dedicated VIPs (and their host filters) are configured
  whenever the vserver is enabled; anycast VIPs only while active.
* A config change re-initialises the vserver (all down, check state lost)
  when `use_fwm` flips, the number of entries changes, an entry appears or
  an entry's mode changes; otherwise it is applied in place and keeps the
  state of whatever stayed the same.
* Overrides: a vserver override forces the vserver on or off; a backend or
  destination override forces a destination in (enabled, even if the config
  disables the backend) or out (disabled). Destination beats backend beats
  config.
* Adoption (a warm restart, `adoption`): a destination the dataplane already
  holds counts its UNKNOWN checks as passing (it is *provisional*) until
  `end_adoption`; real results count at once. A service the dataplane holds
  is judged by its low watermark, as a healthy one.

Nothing here does I/O: `partition()` renders what NCC should hold for this
vserver and `snapshot()` what the operator sees. `version` counts the events
that may have changed anything but a check's latest result, so that a cache
of snapshots (`seesaw.engine.snapshots`) rebuilds only what changed.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterator, Mapping

from seesaw.config.model import (
    ANYCAST_RANGES,
    VIP,
    Backend,
    Healthcheck,
    HealthcheckMode,
    IPAddress,
    LBMode,
    Scheduler,
    VIPType,
    Vserver,
    VserverEntry,
)
from seesaw.engine.adoption import DataplaneSnapshot, service_ref
from seesaw.engine.checks import UNKNOWN, CheckKey, CheckStatus
from seesaw.engine.marks import MarkAllocator
from seesaw.pb import common_pb2, engine_pb2, ncc_pb2

log = logging.getLogger(__name__)

PARTITION_PREFIX = "vserver:"

# IP_VS_SVC_F_* service flags.
SVC_F_PERSISTENT = 0x0001
SVC_F_ONEPACKET = 0x0004
SVC_F_SCHED1 = 0x0008  # sh-fallback / mh-fallback
SVC_F_SCHED2 = 0x0010  # sh-port / mh-port

FORWARDING = {
    LBMode.DSR: common_pb2.FWD_ROUTE,
    LBMode.NAT: common_pb2.FWD_MASQ,
    LBMode.TUN: common_pb2.FWD_TUNNEL,
}
FAMILY = {4: common_pb2.AF_INET, 6: common_pb2.AF_INET6}
PROTO_NAME = {6: "TCP", 17: "UDP"}

# A check and its CheckState message inside a snapshot (`VserverMachine.snapshot(results=...)`).
CheckResultSlot = tuple["Check", engine_pb2.CheckState]


def partition_name(vserver_name: str) -> str:
    return PARTITION_PREFIX + vserver_name


def _f32(value: float) -> float:
    """Round to float32, as Seesaw compares watermarks (so 2/5 >= 0.4 holds)."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def vserver_enabled(config: Vserver | None, override: int) -> bool:
    if config is None or override == common_pb2.OVERRIDE_DISABLED:
        return False
    if override == common_pb2.OVERRIDE_ENABLED:
        return True
    return config.enabled


def effective_enabled(config_enabled: bool, *overrides: int) -> bool:
    """The first non-default override wins; otherwise the config decides."""
    for state in overrides:
        if state == common_pb2.OVERRIDE_DISABLED:
            return False
        if state == common_pb2.OVERRIDE_ENABLED:
            return True
    return config_enabled


def is_anycast(ip: IPAddress) -> bool:
    return any(ip in net for net in ANYCAST_RANGES)


class ServiceKey(tuple[int, int, int, int]):
    """(address family 4|6, fwmark, IP protocol, port); fwmark services have
    protocol and port 0, the others fwmark 0."""

    def __new__(cls, af: int, fwm: int = 0, proto: int = 0, port: int = 0) -> ServiceKey:
        return super().__new__(cls, (af, fwm, proto, port))

    @property
    def af(self) -> int:
        return self[0]

    @property
    def fwm(self) -> int:
        return self[1]

    @property
    def proto(self) -> int:
        return self[2]

    @property
    def port(self) -> int:
        return self[3]


class Check:
    """One check of one or more destinations of this vserver."""

    __slots__ = ("description", "dests", "healthcheck", "key", "status")

    def __init__(self, key: CheckKey, healthcheck: Healthcheck) -> None:
        self.key = key
        self.healthcheck = healthcheck
        self.dests: list[Destination] = []
        self.status: CheckStatus = UNKNOWN
        self.description = ""


class Destination:
    __slots__ = (
        "active",
        "backend",
        "checks",
        "enabled",
        "healthy",
        "ip",
        "name",
        "override",
        "provisional",
        "service",
        "weight",
    )

    def __init__(
        self, ip: IPAddress, service: Service, backend: Backend, name: str, enabled: bool, override: int
    ) -> None:
        self.ip = ip
        self.service = service
        self.backend = backend
        self.weight = backend.weight
        self.name = name
        self.enabled = enabled  # after overrides
        self.override = override  # the override in force for it
        self.checks: list[Check] = []
        self.healthy = False
        self.active = False
        self.provisional = False  # adopted from the dataplane: its UNKNOWN checks count as passing

    def __repr__(self) -> str:
        return f"Destination({self.name}, healthy={self.healthy}, active={self.active})"


class Service:
    __slots__ = ("active", "adopted", "dests", "entry", "healthy", "ip", "key")

    def __init__(self, key: ServiceKey, ip: IPAddress, entry: VserverEntry) -> None:
        self.key = key
        self.ip = ip
        self.entry = entry
        self.dests: dict[IPAddress, Destination] = {}
        self.healthy = False
        self.active = False
        self.adopted = False  # the dataplane holds it: judged by the low watermark, as a healthy service

    def counts(self) -> tuple[int, int]:
        """(backends in service, healthy destinations), as the watermarks count them."""
        backends = sum(1 for d in self.dests.values() if d.backend.in_service)
        healthy = sum(1 for d in self.dests.values() if d.healthy)
        return backends, healthy

    def __repr__(self) -> str:
        if self.key.fwm:
            return f"{self.ip}/fwm:{self.key.fwm}"
        return f"{_host_port(self.ip, self.key.port)}/{PROTO_NAME.get(self.key.proto, self.key.proto)}"


def _host_port(ip: IPAddress, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


class VserverMachine:
    """The running state of one vserver."""

    def __init__(self, name: str, fwm_alloc: MarkAllocator, kept_marks: Mapping[int, int] | None = None) -> None:
        """`kept_marks`: the marks (by address family) this vserver had before the engine restarted, held for
        it in `fwm_alloc` (mark_store)."""
        self.name = name
        self._fwm_alloc = fwm_alloc
        self._kept_marks = dict(kept_marks or {})
        self.config: Vserver | None = None
        self.enabled = False
        self.override: int = common_pb2.OVERRIDE_DEFAULT
        self.backend_overrides: dict[str, int] = {}  # backend hostname -> state
        self.destination_overrides: dict[str, int] = {}  # destination name -> state
        self.fwm: dict[int, int] = {}  # address family -> mark
        self.services: dict[ServiceKey, Service] = {}
        self.checks: dict[CheckKey, Check] = {}
        self.active: dict[IPAddress, bool] = {}  # VIPs that are up
        self.lb_vservers: set[IPAddress] = set()  # VIPs whose host filter is in place
        self.vips: set[VIP] = set()  # configured unicast/dedicated VIPs
        # Bumps on every event that may change the snapshot beyond a check's latest result (`Check.status`,
        # replaced on every result): config, overrides, health transitions, shutdown.
        self.version = 0

    def __repr__(self) -> str:
        return f"VserverMachine({self.name})"

    # ------------------------------------------------------------------ events

    def handle_config(self, config: Vserver | None) -> None:
        """A new config for this vserver (Seesaw's handleConfigUpdate)."""
        if config is None:
            return
        self.version += 1
        if self.config is None:
            self._config_init(config)
            return
        want = vserver_enabled(config, self.override)
        if self.enabled and not want:
            log.info("%s: disabling vserver", self.name)
            self._down_all()
            self._unconfigure_vips()
            self._config_init(config)
            return
        if not self.enabled:
            if want:
                log.info("%s: enabling vserver", self.name)
            self._config_init(config)
            return
        if self._needs_reinit(config):
            log.info("%s: re-initialising vserver", self.name)
            self._down_all()
            self._unconfigure_vips()
            self._config_init(config)
            return
        self.config = config
        self._config_update()

    def handle_check(self, key: CheckKey, status: CheckStatus, description: str = "") -> bool:
        """A check result; True if the check's state changed."""
        if not self.enabled:
            return False
        check = self.checks.get(key)
        if check is None:
            log.debug("%s: unknown check key %s", self.name, key)
            return False
        transition = check.status.state != status.state
        check.status = status
        if description:
            check.description = description
        if transition:
            self.version += 1
            log.info("%s: healthcheck %s - %s", self.name, key, common_pb2.HealthState.Name(status.state))
            for dest in check.dests:
                self._dest_update_state(dest)
        return transition

    def handle_override(self, state: int) -> None:
        """A vserver override (default, disabled or enabled)."""
        if state == self.override:
            return
        self.version += 1
        self.override = state
        if vserver_enabled(self.config, state) == self.enabled:
            return
        if self.config is not None:
            self.handle_config(self.config)

    def set_backend_override(self, hostname: str, state: int) -> None:
        self._set_override(self.backend_overrides, hostname, state)

    def set_destination_override(self, name: str, state: int) -> None:
        self._set_override(self.destination_overrides, name, state)

    def shutdown(self) -> None:
        """Take everything down and give back the marks (Seesaw's quit)."""
        self.version += 1
        self._down_all()
        self._unconfigure_vips()
        for mark in self.fwm.values():
            self._fwm_alloc.put(mark)
        self.fwm.clear()

    def adopt(self, dataplane: DataplaneSnapshot) -> None:
        """Take what the dataplane holds for this vserver as healthy until its checks report (a warm restart)."""
        if not self.enabled:
            return
        self.version += 1
        for svc in self.services.values():
            ref = service_ref(self._ipvs_service(svc))
            if not dataplane.has_service(ref):
                continue
            svc.adopted = True
            for dest in svc.dests.values():
                if dataplane.has_destination(ref, str(dest.ip)):
                    dest.provisional = True
        self._evaluate_all()

    def end_adoption(self) -> None:
        """Provisional health ends: checks that are still UNKNOWN count as failing from now on."""
        self.version += 1
        for svc in self.services.values():
            svc.adopted = False
            for dest in svc.dests.values():
                dest.provisional = False
        if self.enabled:
            self._evaluate_all()

    # ------------------------------------------------------------- read views

    def active_checks(self) -> dict[CheckKey, Check]:
        """The checks the healthcheck daemon should run (none while disabled)."""
        return self.checks if self.enabled else {}

    def interface_vips(self) -> set[IPAddress]:
        """The VIPs NCC should hold for this vserver."""
        vips = {vip.ip for vip in self.vips}
        vips.update(ip for ip, up in self.active.items() if up and self._vip_type(ip) == VIPType.ANYCAST)
        return vips

    def destinations(self) -> Iterator[Destination]:
        for svc in self.services.values():
            yield from svc.dests.values()

    def partition(self) -> ncc_pb2.Partition:
        """What NCC should hold for this vserver."""
        part = ncc_pb2.Partition(name=partition_name(self.name))
        if self.config is None:
            return part
        for key in sorted(self.services):
            svc = self.services[key]
            if svc.active:
                part.services.append(self._ipvs_service(svc))
        for ip in sorted(self.interface_vips(), key=lambda a: (a.version, a)):
            part.vips.append(ncc_pb2.VIP(address=str(ip), type=int(self._vip_type(ip))))
        for ip in sorted(self.lb_vservers, key=lambda a: (a.version, a)):
            part.filters.append(self._filter(ip))
        return part

    def snapshot(
        self, check_id: Callable[[CheckKey], int] | None = None, results: list[CheckResultSlot] | None = None
    ) -> engine_pb2.Vserver | None:
        """The operator's view of this vserver; None before its first config.

        With `results`, every check's place in the snapshot is appended to it (the `Check` and its
        `CheckState` message, which belongs to the snapshot), so that a later result can be written there
        with `fill_result` instead of building the whole snapshot again.
        """
        cfg = self.config
        if cfg is None:
            return None
        vs = engine_pb2.Vserver(
            name=cfg.name,
            hostname=cfg.host.hostname,
            ipv4=str(cfg.host.ipv4) if cfg.host.ipv4 else "",
            ipv6=str(cfg.host.ipv6) if cfg.host.ipv6 else "",
            enabled=self.enabled,
            config_enabled=cfg.enabled,
            override=self.override,
            warnings=list(cfg.warnings),
            use_fwm=cfg.use_fwm,
        )
        for key in sorted(self.services):
            self._service_snapshot(vs.services.add(), self.services[key], check_id, results)
        for vip in sorted(cfg.vips.values(), key=lambda v: (v.ip.version, v.ip)):
            vs.vips.append(
                engine_pb2.VIPStatus(
                    address=str(vip.ip),
                    type=int(vip.type),
                    healthy=self._vip_healthy(vip.ip),
                    active=self.active.get(vip.ip, False),
                )
            )
        return vs

    # --------------------------------------------------------------- expansion

    def expand_services(self) -> dict[ServiceKey, Service]:
        cfg = self._config()
        if cfg.use_fwm:
            return self._expand_fwm_services()
        svcs: dict[ServiceKey, Service] = {}
        for af, addr in ((4, cfg.host.ipv4), (6, cfg.host.ipv6)):
            if addr is None:
                continue
            for entry in cfg.entries.values():
                key = ServiceKey(af, 0, int(entry.protocol), entry.port)
                svcs[key] = Service(key, addr.ip, entry)
        return svcs

    def _expand_fwm_services(self) -> dict[ServiceKey, Service]:
        cfg = self._config()
        svcs: dict[ServiceKey, Service] = {}
        if not cfg.entries:
            return svcs
        # Entries of an fwmark vserver must agree on mode, scheduler and
        # persistence (validation makes sure); take the first by key.
        entry = cfg.entries[min(cfg.entries)]
        for af, addr in ((4, cfg.host.ipv4), (6, cfg.host.ipv6)):
            if addr is None:
                continue
            if af not in self.fwm:
                self.fwm[af] = self._fwm_alloc.get(prefer=self._kept_marks.pop(af, None))
            key = ServiceKey(af, self.fwm[af])
            svcs[key] = Service(key, addr.ip, entry)
        return svcs

    def expand_dests(self, svc: Service) -> dict[IPAddress, Destination]:
        cfg = self._config()
        dests: dict[IPAddress, Destination] = {}
        for backend in cfg.backends.values():
            addr = backend.host.ipv4 if svc.key.af == 4 else backend.host.ipv6
            if addr is None:
                continue
            name = self._dest_name(svc, addr.ip)
            override = self._dest_override(backend, name)
            enabled = effective_enabled(backend.enabled, override)
            dests[addr.ip] = Destination(addr.ip, svc, backend, name, enabled, override)
        return dests

    def expand_checks(self) -> dict[CheckKey, Check]:
        cfg = self._config()
        checks: dict[CheckKey, Check] = {}
        for svc in self.services.values():
            for dest in svc.dests.values():
                dest.checks = []
                if not dest.enabled:
                    continue
                for hc in cfg.healthchecks.values():
                    key = _check_key(svc.ip, dest.ip, 0, 0, hc)
                    check = checks.get(key)
                    if check is None:
                        check = checks[key] = Check(key, hc)
                    dest.checks.append(check)
                    check.dests.append(dest)
                entries = cfg.entries.values() if cfg.use_fwm else (svc.entry,)
                for entry in entries:
                    for hc in entry.healthchecks.values():
                        key = _check_key(svc.ip, dest.ip, entry.port, int(entry.protocol), hc)
                        check = checks[key] = Check(key, hc)
                        dest.checks.append(check)
                        check.dests.append(dest)
        return checks

    # ----------------------------------------------------------- config paths

    def _config(self) -> Vserver:
        if self.config is None:
            raise RuntimeError(f"{self.name}: no config yet")
        return self.config

    def _needs_reinit(self, new: Vserver) -> bool:
        old = self._config()
        if new.use_fwm != old.use_fwm or len(new.entries) != len(old.entries):
            return True
        for key, entry in new.entries.items():
            previous = old.entries.get(key)
            if previous is None or previous.mode != entry.mode:
                return True
        return False

    def _config_init(self, config: Vserver) -> None:
        self.config = config
        self.enabled = vserver_enabled(config, self.override)
        if not config.use_fwm:
            self._release_fwm()
        services = self.expand_services()
        for svc in services.values():
            svc.dests = self.expand_dests(svc)
        self.services = services
        self.checks = self.expand_checks()
        if self.enabled:
            self._configure_vips()
            self._evaluate_all()

    def _config_update(self) -> None:
        new_services = self.expand_services()
        for key, new in new_services.items():
            svc = self.services.get(key)
            if svc is not None:
                if svc.ip == new.ip:
                    svc.entry = new.entry
                    continue
                log.info("%s: service %s: new IP address %s", self.name, svc, new.ip)
                self._delete_service(svc)
            log.info("%s: adding new service %s", self.name, new)
            self.services[key] = new
            self._vip_update_state(new.ip)

        for key, svc in list(self.services.items()):
            if key not in new_services:
                self._delete_service(svc)
                continue
            new_dests = self.expand_dests(svc)
            for ip, new_dest in new_dests.items():
                dest = svc.dests.get(ip)
                if dest is None:
                    svc.dests[ip] = new_dest
                else:
                    self._dest_update(dest, new_dest)
            for ip, dest in list(svc.dests.items()):
                if ip not in new_dests:
                    if dest.active:
                        dest.healthy = False
                        self._service_update_state(svc)
                    del svc.dests[ip]

        needed = {svc.ip for svc in self.services.values()}
        for vip in list(self.vips):
            if vip.ip not in needed:
                log.info("%s: unconfiguring VIP %s, no longer used", self.name, vip.ip)
                self._unconfigure_vip(vip)

        self._rebuild_checks()
        self._configure_vips()
        self._evaluate_all()

    def _rebuild_checks(self) -> None:
        checks = self.expand_checks()
        for key, old in self.checks.items():
            new = checks.get(key)
            if new is not None:
                new.status = old.status
                new.description = old.description
        self.checks = checks

    def _delete_service(self, svc: Service) -> None:
        if svc.active:
            svc.healthy = False
            self._vip_update_state(svc.ip)
        log.info("%s: deleting service %s", self.name, svc)
        del self.services[svc.key]

    def _dest_update(self, dest: Destination, new: Destination) -> None:
        dest.backend = new.backend
        dest.weight = new.weight
        dest.name = new.name
        dest.enabled = new.enabled
        dest.override = new.override
        dest.checks = []
        if dest.healthy and not dest.enabled:
            log.info("%s: %s disabling destination %s", self.name, dest.service, dest.name)
            dest.healthy = False
            self._service_update_state(dest.service)

    def _set_override(self, table: dict[str, int], name: str, state: int) -> None:
        if table.get(name, common_pb2.OVERRIDE_DEFAULT) == state:
            return
        if state == common_pb2.OVERRIDE_DEFAULT:
            del table[name]
        else:
            table[name] = state
        if self.config is None:
            return
        changed = False
        for dest in self.destinations():
            override = self._dest_override(dest.backend, dest.name)
            enabled = effective_enabled(dest.backend.enabled, override)
            if override != dest.override:
                dest.override = override
                self.version += 1  # a backend override touches only the vservers that have that backend
            if enabled != dest.enabled:
                dest.enabled = enabled
                changed = True
        if changed:
            self._rebuild_checks()
            if self.enabled:
                self._evaluate_all()

    def _dest_override(self, backend: Backend, dest_name: str) -> int:
        state = self.destination_overrides.get(dest_name, common_pb2.OVERRIDE_DEFAULT)
        if state == common_pb2.OVERRIDE_DEFAULT:
            state = self.backend_overrides.get(backend.hostname, common_pb2.OVERRIDE_DEFAULT)
        return state

    def _dest_name(self, svc: Service, ip: IPAddress) -> str:
        if svc.key.fwm:
            return f"{self.name}/{ip}"
        return f"{self.name}/{_host_port(ip, svc.key.port)}/{PROTO_NAME.get(svc.key.proto, svc.key.proto)}"

    def _release_fwm(self) -> None:
        for mark in self.fwm.values():
            self._fwm_alloc.put(mark)
        self.fwm.clear()

    # ------------------------------------------------------ health propagation

    def _evaluate_all(self) -> None:
        """Re-derive destination and service health from the checks.

        Seesaw only looked at a destination when one of its checks changed,
        so a destination without checks never came up; this runs after every
        (re)configuration instead.
        """
        for svc in list(self.services.values()):
            for dest in list(svc.dests.values()):
                self._dest_update_state(dest)
            self._service_update_state(svc)

    def _dest_update_state(self, dest: Destination) -> None:
        healthy = dest.enabled and all(
            c.status.healthy or (dest.provisional and c.status.state == common_pb2.HEALTH_UNKNOWN) for c in dest.checks
        )
        if dest.healthy == healthy:
            return
        dest.healthy = healthy
        svc = dest.service
        if svc.active and dest.healthy:
            self._dest_up(dest)
        elif svc.active != dest.healthy or svc.healthy != dest.healthy:
            self._service_update_state(svc)

    def _dest_up(self, dest: Destination) -> None:
        dest.active = True
        log.info("%s: %s backend %s up", self.name, dest.service, dest.ip)

    def _dest_down(self, dest: Destination) -> None:
        dest.active = False
        log.info("%s: %s backend %s down", self.name, dest.service, dest.ip)

    def _service_update_state(self, svc: Service) -> None:
        backends, healthy_dests = svc.counts()
        threshold = svc.entry.low_watermark if svc.healthy or svc.adopted else svc.entry.high_watermark
        if backends == 0 or healthy_dests == 0:
            healthy = False
        elif threshold == 0:
            healthy = healthy_dests >= 1
        else:
            healthy = _f32(healthy_dests / backends) >= _f32(threshold)

        if svc.healthy == healthy:
            self._update_dests(svc)
            return
        log.info(
            "%s: %s: %d/%d destinations are healthy, service now %s",
            self.name,
            svc,
            healthy_dests,
            backends,
            "healthy" if healthy else "unhealthy",
        )
        svc.healthy = healthy
        vip_active = self.active.get(svc.ip, False)
        if vip_active and svc.healthy:
            self._service_up(svc)
        elif vip_active != svc.healthy:
            self._vip_update_state(svc.ip)

    def _update_dests(self, svc: Service) -> None:
        for dest in svc.dests.values():
            if not svc.active:
                if dest.active:
                    self._dest_down(dest)
                continue
            if not dest.healthy and dest.active:
                self._dest_down(dest)
            elif dest.healthy and not dest.active:
                self._dest_up(dest)

    def _service_up(self, svc: Service) -> None:
        svc.active = True
        log.info("%s: %s service up", self.name, svc)
        self._update_dests(svc)

    def _service_down(self, svc: Service) -> None:
        svc.active = False
        log.info("%s: %s service down", self.name, svc)
        self._update_dests(svc)

    def _vip_healthy(self, ip: IPAddress) -> bool:
        anycast = self._vip_type(ip) == VIPType.ANYCAST
        healthy = False
        for svc in self.services.values():
            if svc.ip != ip:
                continue
            healthy = svc.healthy
            if not healthy and anycast:
                break
            if healthy and not anycast:
                break
        return healthy

    def _vip_update_state(self, ip: IPAddress) -> None:
        healthy = self._vip_healthy(ip)
        active = self.active.get(ip, False)
        if active == healthy:
            self._update_services(ip)
        elif active:
            self._vip_down(ip)
        else:
            self._vip_up(ip)

    def _update_services(self, ip: IPAddress) -> None:
        active = self.active.get(ip, False)
        for svc in self.services.values():
            if svc.ip != ip:
                continue
            if not active:
                if svc.active:
                    self._service_down(svc)
                continue
            if not svc.healthy and svc.active:
                self._service_down(svc)
            elif svc.healthy and not svc.active:
                self._service_up(svc)

    def _vip_up(self, ip: IPAddress) -> None:
        self.active[ip] = True
        self._update_services(ip)
        if self._vip_type(ip) == VIPType.ANYCAST:
            self.lb_vservers.add(ip)
        log.info("%s: VIP %s up", self.name, ip)

    def _vip_down(self, ip: IPAddress) -> None:
        if self._vip_type(ip) == VIPType.ANYCAST:
            self.lb_vservers.discard(ip)
        self.active.pop(ip, None)
        self._update_services(ip)
        log.info("%s: VIP %s down", self.name, ip)

    def _down_all(self) -> None:
        for svc in list(self.services.values()):
            if self.active.get(svc.ip, False):
                self._vip_down(svc.ip)
            if svc.active:
                self._service_down(svc)

    def _configure_vips(self) -> None:
        for vip in self._config().vips.values():
            if vip in self.vips or vip.type == VIPType.ANYCAST:
                continue
            self.lb_vservers.add(vip.ip)
            self.vips.add(vip)

    def _unconfigure_vip(self, vip: VIP) -> None:
        if vip not in self.vips:
            return
        self.lb_vservers.discard(vip.ip)
        self.vips.discard(vip)

    def _unconfigure_vips(self) -> None:
        for vip in list(self.vips):
            self._unconfigure_vip(vip)

    def _vip_type(self, ip: IPAddress) -> VIPType:
        if self.config is not None:
            for vip in self.config.vips.values():
                if vip.ip == ip:
                    return vip.type
        for vip in self.vips:
            if vip.ip == ip:
                return vip.type
        return VIPType.ANYCAST if is_anycast(ip) else VIPType.UNICAST

    # ---------------------------------------------------------------- render

    def _ipvs_service(self, svc: Service) -> ncc_pb2.Service:
        entry = svc.entry
        flags = 0
        if entry.persistence > 0:
            flags |= SVC_F_PERSISTENT
        if entry.one_packet:
            flags |= SVC_F_ONEPACKET
        if entry.scheduler in (Scheduler.SH, Scheduler.MH):
            flags |= SVC_F_SCHED1 | SVC_F_SCHED2
        out = ncc_pb2.Service(
            family=FAMILY[svc.key.af],
            protocol=svc.key.proto,
            address="" if svc.key.fwm else str(svc.ip),
            port=svc.key.port,
            fwmark=svc.key.fwm,
            scheduler=entry.scheduler.value,
            flags=flags,
            timeout=max(entry.persistence, 0),
        )
        for ip in sorted(svc.dests, key=lambda a: (a.version, a)):
            dest = svc.dests[ip]
            if dest.active:
                out.destinations.append(
                    ncc_pb2.Destination(
                        address=str(dest.ip),
                        port=svc.key.port,
                        forwarding=FORWARDING[entry.mode],
                        weight=max(dest.weight, 0),
                        upper_threshold=max(entry.uthreshold, 0),
                        lower_threshold=max(entry.lthreshold, 0),
                    )
                )
        return out

    def _filter(self, ip: IPAddress) -> ncc_pb2.VIPFilter:
        cfg = self._config()
        ports = sorted((int(e.protocol), e.port) for e in cfg.entries.values())
        return ncc_pb2.VIPFilter(
            address=str(ip),
            ports=[ncc_pb2.Port(protocol=proto, port=port) for proto, port in ports],
            fwmark=self.fwm.get(ip.version, 0) if cfg.use_fwm else 0,
            nat=any(e.mode == LBMode.NAT for e in cfg.entries.values()),
        )

    def _service_snapshot(
        self,
        out: engine_pb2.Service,
        svc: Service,
        check_id: Callable[[CheckKey], int] | None,
        results: list[CheckResultSlot] | None,
    ) -> None:
        entry = svc.entry
        backends, healthy = svc.counts()
        out.family = FAMILY[svc.key.af]
        out.protocol = svc.key.proto
        out.address = str(svc.ip)
        out.port = svc.key.port
        out.fwmark = svc.key.fwm
        out.mode = entry.mode.value
        out.scheduler = entry.scheduler.value
        out.one_packet = entry.one_packet
        out.persistence = max(entry.persistence, 0)
        out.enabled = self.enabled
        out.healthy = svc.healthy
        out.active = svc.active
        out.low_watermark = entry.low_watermark
        out.high_watermark = entry.high_watermark
        out.current_watermark = healthy / backends if backends else 0.0
        for dest in sorted(svc.dests.values(), key=lambda d: d.name):
            dest_pb = out.destinations.add(
                name=dest.name,
                vserver=self.name,
                backend=dest.backend.hostname,
                address=str(dest.ip),
                port=svc.key.port,
                weight=max(dest.weight, 0),
                enabled=dest.enabled,
                healthy=dest.healthy,
                active=dest.active,
                override=dest.override,
            )
            for check in dest.checks:
                state = dest_pb.checks.add()
                _check_state(state, check, check_id)
                if results is not None:
                    results.append((check, state))


def _check_key(vip: IPAddress, backend_ip: IPAddress, port: int, proto: int, hc: Healthcheck) -> CheckKey:
    return CheckKey(vip, backend_ip, port, proto, hc.mode, hc.type, hc.port, hc.name)


def _check_state(out: engine_pb2.CheckState, check: Check, check_id: Callable[[CheckKey], int] | None) -> None:
    key = check.key
    target = key.backend_ip if key.mode == HealthcheckMode.PLAIN or key.vserver_ip is None else key.vserver_ip
    out.id = check_id(key) if check_id else 0
    out.name = key.name
    out.type = int(key.type)
    out.mode = int(key.mode) - 1
    out.target = str(target)
    out.port = key.port
    fill_result(out, check.status)


def fill_result(out: engine_pb2.CheckState, status: CheckStatus) -> None:
    """Write a check's latest result into its place in a snapshot: the only part a result changes
    unless it is a health transition (which bumps `VserverMachine.version`)."""
    out.state = status.state
    out.message = status.message
    out.latency_us = status.latency_us
    out.checked_unix_ms = status.checked_unix_ms
