"""The engine side of healthchecking: vservers' checks in, checker configs
and routed results out.

Rules this file keeps (Seesaw v2's `engine/healthcheck.go`):

* Checks that probe the same thing the same way share one checker: the
  dedup key is the `CheckKey` without its name (and, for PLAIN checks,
  without VIP and service) plus the whole healthcheck definition.
* A checker keeps its ID for as long as some vserver still needs it. A new
  checker's ID is derived from what it checks and how (a hash of its key and
  definition, the next free one on a collision), so a restarted engine hands
  the healthcheck daemon the IDs it already runs: the daemon keeps those
  checks, their state and their schedule, and its first resync carries real
  results (a warm restart, `adoption`). A changed check gets a new ID.
* DSR and TUN checks go to the VIP with a socket mark; each (backend, mode)
  gets a mark from 65536..81535 and an IPVS fwmark service forwarding that
  mark to the backend, so the probe reaches the backend exactly like client
  traffic. Those services form the `healthcheck-marks` partition; a mark is
  given back once no check uses it. A restarted engine keeps the marks the
  dataplane already forwards (`adopt_marks`, from NCC's state), whatever
  order they were first handed out in, so its first Apply rewrites none.
* A result for a checker is fanned out to every vserver check sharing it.

Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Collection, Iterable

from seesaw.config.model import Healthcheck, HealthcheckMode, HealthcheckType, IPAddress
from seesaw.engine.checks import CheckKey
from seesaw.engine.marks import CHECK_MARK_BASE, CHECK_MARK_SIZE, MarkAllocator
from seesaw.engine.vserver import FAMILY, Check
from seesaw.pb import common_pb2, healthcheck_pb2, ncc_pb2

PARTITION = "healthcheck-marks"

Route = tuple[str, CheckKey]  # (vserver name, check key)
CheckerKey = tuple[CheckKey, Healthcheck]

_HTTP_TYPES = (HealthcheckType.HTTP, HealthcheckType.HTTPS)
_MARK_FORWARDING = {HealthcheckMode.DSR: common_pb2.FWD_ROUTE, HealthcheckMode.TUN: common_pb2.FWD_TUNNEL}
_FORWARDING_MODE = {forwarding: mode for mode, forwarding in _MARK_FORWARDING.items()}

MarkKey = tuple[IPAddress, HealthcheckMode]


def marks_held(state: ncc_pb2.DataplaneState) -> dict[MarkKey, int]:
    """The probe marks a dataplane holds: its fwmark services in the probe range with one DSR/TUN destination."""
    held: dict[MarkKey, int] = {}
    for entry in state.services:
        mark = entry.service.fwmark
        if not CHECK_MARK_BASE <= mark < CHECK_MARK_BASE + CHECK_MARK_SIZE or len(entry.destinations) != 1:
            continue
        dest = entry.destinations[0].destination
        mode = _FORWARDING_MODE.get(dest.forwarding)
        try:
            ip = ipaddress.ip_address(dest.address)
        except ValueError:
            continue
        if mode is not None:
            held.setdefault((ip, mode), mark)
    return held


def check_config(check_id: int, key: CheckKey, hc: Healthcheck, mark: int) -> healthcheck_pb2.CheckConfig:
    """The checker config for one deduplicated check, defaults filled in as
    Seesaw's checkers fill them (HTTP: GET / expecting 200; RADIUS: accept)."""
    plain = key.mode == HealthcheckMode.PLAIN or key.vserver_ip is None
    target = key.backend_ip if plain else key.vserver_ip
    send, receive, code, method = hc.send, hc.receive, hc.code, hc.method
    if hc.type in _HTTP_TYPES:
        send = send or "/"
        code = code or 200
        method = method or "GET"
    elif hc.type == HealthcheckType.DNS:
        method = method.upper()
    elif hc.type == HealthcheckType.RADIUS:
        receive = receive or "accept"
    port = 0 if hc.type == HealthcheckType.ICMP_PING else hc.port
    via = "" if plain else f" via {target} mark {mark}"
    return healthcheck_pb2.CheckConfig(
        id=check_id,
        name=hc.name,
        type=int(hc.type),
        mode=int(hc.mode) - 1,
        target=str(target),
        port=port,
        mark=mark,
        interval_ms=round(hc.interval * 1000),
        timeout_ms=round(hc.timeout * 1000),
        retries=max(hc.retries, 0),
        send=send,
        receive=receive,
        code=code,
        method=method,
        proxy=hc.proxy,
        tls_verify=hc.tls_verify,
        host_header=hc.host_header,
        backend=str(key.backend_ip),
        description=f"{hc.type.name} {hc.mode.name} {_host_port(key.backend_ip, port)}{via}",
    )


def checkset_delta(
    old: dict[int, healthcheck_pb2.CheckConfig], new: dict[int, healthcheck_pb2.CheckConfig]
) -> healthcheck_pb2.CheckSet:
    """What a healthcheck daemon holding `old` needs to hold `new`."""
    delta = healthcheck_pb2.CheckSet(full=False)
    for check_id, cfg in new.items():
        if old.get(check_id) != cfg:
            delta.upsert.append(cfg)
    delta.remove.extend(sorted(i for i in old if i not in new))
    return delta


def _host_port(ip: IPAddress, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def stable_id(checker: CheckerKey) -> int:
    """The checker's preferred ID: the same in every engine process for the same check (1..2^63-1)."""
    digest = hashlib.blake2b(repr(checker).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1 or 1


def _assign_ids(wanted: Collection[CheckerKey], kept: dict[CheckerKey, int]) -> dict[CheckerKey, int]:
    """IDs for `wanted` checkers: those in `kept` keep theirs; new ones get their stable ID or the next free one."""
    ids = {key: kept[key] for key in wanted if key in kept}
    taken = set(ids.values())
    for key in wanted:
        if key in ids:
            continue
        check_id = stable_id(key)
        while check_id in taken:
            check_id = check_id % (2**63 - 1) + 1
        ids[key] = check_id
        taken.add(check_id)
    return ids


class HealthcheckManager:
    def __init__(self) -> None:
        self._vserver_checks: dict[str, dict[CheckKey, Check]] = {}
        self._ids: dict[CheckerKey, int] = {}
        self._configs: dict[int, healthcheck_pb2.CheckConfig] = {}
        self._routes: dict[int, list[Route]] = {}
        self._by_route: dict[Route, int] = {}
        self._marks: dict[tuple[IPAddress, HealthcheckMode], int] = {}
        self._mark_alloc = MarkAllocator(CHECK_MARK_BASE, CHECK_MARK_SIZE)
        self.version = 0  # bumps whenever the checker configs change (or a recheck is asked for)
        self._rechecks: set[int] = set()  # checks to run again at once and report whatever they find
        self.marks_version = 0  # bumps whenever the mark services change

    # ------------------------------------------------------------------ input

    def set_vserver_checks(self, vserver: str, checks: dict[CheckKey, Check] | None) -> None:
        """Record a vserver's current checks (None or empty: it has none)."""
        if checks:
            self._vserver_checks[vserver] = dict(checks)
        else:
            self._vserver_checks.pop(vserver, None)

    def update(self, vserver: str, checks: dict[CheckKey, Check] | None) -> bool:
        """`set_vserver_checks` then `rebuild`."""
        self.set_vserver_checks(vserver, checks)
        return self.rebuild()

    def rebuild(self) -> bool:
        """Recompute checker configs from every vserver's checks; True if they changed."""
        marks_before = dict(self._marks)
        wanted = {
            (key.dedup(), check.healthcheck): None
            for checks in self._vserver_checks.values()
            for key, check in checks.items()
        }
        ids = _assign_ids(wanted, self._ids)
        configs: dict[int, healthcheck_pb2.CheckConfig] = {}
        routes: dict[int, list[Route]] = {}
        marks_used: set[tuple[IPAddress, HealthcheckMode]] = set()
        for vserver, checks in self._vserver_checks.items():
            for key, check in checks.items():
                dedup = key.dedup()
                check_id = ids[(dedup, check.healthcheck)]
                if check_id not in configs:
                    mark = 0
                    if key.mode in _MARK_FORWARDING:
                        mark_key = (key.backend_ip, key.mode)
                        mark = self._mark(mark_key)
                        marks_used.add(mark_key)
                    configs[check_id] = check_config(check_id, dedup, check.healthcheck, mark)
                routes.setdefault(check_id, []).append((vserver, key))
        for mark_key in [k for k in self._marks if k not in marks_used]:
            self._mark_alloc.put(self._marks.pop(mark_key))
        changed = configs != self._configs
        self._ids, self._configs, self._routes = ids, configs, routes
        self._by_route = {route: check_id for check_id, rs in routes.items() for route in rs}
        if changed:
            self.version += 1
        if self._marks != marks_before:
            self.marks_version += 1
        return changed

    def recheck(self, ids: Iterable[int]) -> None:
        """Have the healthcheck daemon run these checks now and report their result, changed or not."""
        new = {i for i in ids if i in self._configs} - self._rechecks
        if new:
            self._rechecks |= new
            self.version += 1

    def take_rechecks(self) -> list[int]:
        """The rechecks asked for since the last call (the checks still configured)."""
        taken = sorted(i for i in self._rechecks if i in self._configs)
        self._rechecks.clear()
        return taken

    def adopt_marks(self, held: dict[MarkKey, int]) -> bool:
        """A warm restart: keep the marks the dataplane holds for the (backend, mode)s still checked, and hand out
        the rest from what is left. True if the checker configs changed."""
        wanted = {
            (key.backend_ip, key.mode)
            for checks in self._vserver_checks.values()
            for key in checks
            if key.mode in _MARK_FORWARDING
        }
        kept: dict[MarkKey, int] = {}
        taken: set[int] = set()
        for key, mark in held.items():
            if key in wanted and mark not in taken:
                kept[key] = mark
                taken.add(mark)
        self._mark_alloc = MarkAllocator(CHECK_MARK_BASE, CHECK_MARK_SIZE)
        self._mark_alloc.reserve(taken)
        before = self._marks
        self._marks = kept
        changed = self.rebuild()
        if self._marks != before:
            self.marks_version += 1
        return changed

    def _mark(self, mark_key: tuple[IPAddress, HealthcheckMode]) -> int:
        mark = self._marks.get(mark_key)
        if mark is None:
            mark = self._marks[mark_key] = self._mark_alloc.get()
        return mark

    # ------------------------------------------------------------------ views

    def configs(self) -> dict[int, healthcheck_pb2.CheckConfig]:
        return self._configs

    def ids(self) -> dict[CheckerKey, int]:
        return self._ids

    def routes(self, check_id: int) -> list[Route]:
        """The vserver checks a result for `check_id` belongs to."""
        return self._routes.get(check_id, [])

    def id_for(self, vserver: str, key: CheckKey) -> int:
        return self._by_route.get((vserver, key), 0)

    def marks(self) -> dict[tuple[IPAddress, HealthcheckMode], int]:
        return dict(self._marks)

    def partition(self) -> ncc_pb2.Partition:
        """The fwmark services that carry DSR/TUN probes to their backends."""
        part = ncc_pb2.Partition(name=PARTITION)
        for (ip, mode), mark in sorted(self._marks.items(), key=lambda item: item[1]):
            part.services.append(
                ncc_pb2.Service(
                    family=FAMILY[ip.version],
                    fwmark=mark,
                    scheduler="rr",
                    destinations=[
                        ncc_pb2.Destination(address=str(ip), port=0, weight=1, forwarding=_MARK_FORWARDING[mode])
                    ],
                )
            )
        return part
