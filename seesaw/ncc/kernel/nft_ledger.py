"""Sans-IO core of the nftables services part: what our tables hold, and the script that changes them.

    load(listing)        -> KernelState   what the kernel holds, from a fresh listing
    stage(steps, route)  -> Staged        the steps checked one by one, and one script for them all
    commit(staged)                        the kernel accepted the script: hold what it wrote

Rules it keeps:

* The registry is in the kernel, not in memory: every service's scheduler,
  flags and timeout ride in the comment of its dispatch element, every
  destination's forwarding, weight and thresholds in the comment of its
  `dest` element. A restarted NCC reads them back and finds what it wrote.
* A step changes the model of one service; the script is the difference
  between the elements of each touched service as rendered (nft_render.py)
  and as held. Changing one destination rewrites only its slots (delete and
  add in one transaction); an unchanged service costs nothing. Nothing is
  ever flushed except our own chains when they must be remade.
* `load` reports an object only if everything the kernel needs for it is
  there and right: a missing or altered slot, id, chain or table makes the
  objects it serves absent, so NCC's audit adds them back, and the add
  re-renders the whole service and writes only what is missing.
* `route(address)` names the device a DSR backend is directly reachable on
  (None: not directly reachable); the DSR table lives on that device.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.kernel import nft_render as r
from seesaw.ncc.kernel.nft_parse import ChainInfo, Listing
from seesaw.ncc.model import (
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    IPAddress,
    Kind,
    Protocol,
    Service,
    ServiceKey,
)
from seesaw.ncc.steps import Op, Step, StepResult

Route = Callable[[IPAddress], str | None]
Backend = tuple[str, IPAddress]  # (device, address)

_SERVICE_MAPS = frozenset({"svc", "msvc", "svc4", "svc6"})
_SLOT_MAPS = frozenset({"slots", "mslots", "slots4", "slots6"})
_VERB = {Op.ADD: "add", Op.UPDATE: "update", Op.DELETE: "delete"}
_TRAFFIC4, _TRAFFIC6 = f"{r.TRAFFIC}4", f"{r.TRAFFIC}6"  # a DSR table's counted sets
# Enum members are slow attribute lookups in Python 3.11: the per-step path uses these.
_SERVICE, _DELETE, _MASQ, _ROUTE = Kind.SERVICE, Op.DELETE, Forwarding.MASQ, Forwarding.ROUTE


@dataclass
class Staged:
    """What one script does, ready to commit once the kernel accepts it."""

    results: list[StepResult]
    script: list[str]
    services: dict[ServiceKey, r.ServiceState | None]  # touched services (None: deleted)
    deletes: r.Elements
    adds: r.Elements
    chains: list[r.Chain] = field(default_factory=list)
    tables: list[r.TableDef] = field(default_factory=list)  # every table the touched services live in
    ids: dict[Backend, int | None] = field(default_factory=dict)  # new ids, and ids given back (None)
    rendered: dict[ServiceKey, r.Elements] = field(default_factory=dict)  # every element of each touched service

    @property
    def writes(self) -> bool:
        return bool(self.script)


class Ledger:
    def __init__(self) -> None:
        self.services: dict[ServiceKey, r.ServiceState] = {}
        # What our tables hold: the elements of each service (every element but the DSR ids
        # belongs to the service its key starts with), and the rest (the ids, anything unreadable).
        self.elements: dict[ServiceKey, r.Elements] = {}
        self.shared: r.Elements = {}
        self.ids: dict[Backend, int] = {}
        self.users: dict[Backend, set[ServiceKey]] = {}
        self.sets: dict[str, set[str]] = {}  # table -> maps present
        self.chains: dict[tuple[str, str], ChainInfo] = {}
        self.devices: dict[str, str] = {}  # DSR table -> device

    @property
    def held(self) -> r.Elements:
        """Every element our tables hold (a copy)."""
        held = dict(self.shared)
        for elements in self.elements.values():
            held.update(elements)
        return held

    # ------------------------------------------------------------ reading

    def load(self, listing: Listing) -> KernelState:
        """Take `listing` (our tables, freshly read) as the truth; return the objects it fully holds."""
        self.sets = {table: set(names) for table, names in listing.sets.items()}
        self.chains = dict(listing.chains)
        self.devices = {
            table: info.device
            for (table, name), info in listing.chains.items()
            if name == "ingress" and info.device and table.startswith(f"netdev {r.DSR_PREFIX}")
        }
        self.elements = {}
        self.shared = {}
        self.ids = {}
        self.services = {}
        for elem, value in listing.elements.items():
            owner = _owner(elem)
            if owner is not None:
                elements = self.elements.get(owner)
                if elements is None:
                    elements = self.elements[owner] = {}
                elements[elem] = value
                continue
            self.shared[elem] = value
            if elem[1] in ("ids4", "ids6") and elem[0] in self.devices and value[0] is not None:
                self.ids[(self.devices[elem[0]], _address(value[0]))] = int(elem[2])
        self._read_registry()
        self.users = {}
        for key, state in self.services.items():
            for backend in r.dsr_backends(state):
                self.users.setdefault(backend, set()).add(key)
        return self._verify()

    def _read_registry(self) -> None:
        for skey, elements in self.elements.items():
            state: r.ServiceState | None = None
            for (table, name, _), (_, comment) in elements.items():
                if name in ("svc", "msvc") and not table.startswith("netdev "):
                    spec = r.parse_service_comment(skey, comment)
                    if spec is not None:
                        state = self.services[skey] = r.ServiceState(spec)
            if state is None:
                continue
            for (table, name, key), (_, comment) in elements.items():
                if name in ("dest", "mdest"):
                    dkey = _destination_key(skey, key)
                    dest = None if dkey is None else r.parse_destination_comment(dkey, comment)
                    if dest is not None:
                        state.dests[dest.key] = dest
                elif name in ("svc4", "svc6") and table in self.devices:
                    state.device = self.devices[table]

    def _verify(self) -> KernelState:
        state = KernelState()
        broken_tables = {t for t in self._tables_in_use() if not self._table_ok(t)}
        for key, service in self.services.items():
            wanted, chains = r.render(service, lambda device, address: self.ids.get((device, address), 0))
            missing_service = any(c.table in broken_tables or not self._chain_ok(c) for c in chains)
            missing_service |= r.nat_table(key.family) in broken_tables
            missing_dests: set[DestinationKey] = set()
            for backend in r.dsr_backends(service):
                if backend not in self.ids:
                    missing_dests |= {k for k in service.dests if k.address == backend[1]}
            held = self.elements.get(key, {})
            if held != wanted:
                for elem in held.keys() | wanted.keys():
                    if held.get(elem) == wanted.get(elem):
                        continue
                    blamed = self._blame(service, elem, wanted.get(elem), held.get(elem))
                    if blamed is None:
                        missing_service = True
                    else:
                        missing_dests |= blamed
            if not missing_service:
                state.objects[(Kind.SERVICE, key)] = service.spec
            for dkey, dest in service.dests.items():
                if dkey not in missing_dests:
                    state.objects[(Kind.DESTINATION, dkey)] = dest
        return state

    def _blame(
        self, service: r.ServiceState, elem: r.ElemKey, wanted: r.ElemVal | None, held: r.ElemVal | None
    ) -> set[DestinationKey] | None:
        """The destinations a wrong element serves, or None if it is the service's own."""
        table, name, key = elem
        if name in ("dest", "mdest"):
            dkey = _destination_key(service.spec.key, key)
            return {dkey} if dkey is not None else None
        if name == "live4":  # the id ends the key: <service key> . <id>
            address = self._id_address(table, key.rpartition(" . ")[2])
            return {k for k in service.dests if k.address == address} or None
        if name not in _SLOT_MAPS:
            return None
        blamed: set[DestinationKey] = set()
        for value in (wanted, held):
            if value is None or value[0] is None:
                continue
            address = self._slot_address(table, name, value[0])
            blamed |= {k for k in service.dests if k.address == address}
        return blamed or None

    def _slot_address(self, table: str, name: str, value: str) -> IPAddress | None:
        if name in ("slots4", "slots6"):
            return self._id_address(table, value)
        try:
            return ipaddress.ip_address(value.split(" . ")[0])
        except ValueError:
            return None

    def _id_address(self, table: str, number: str) -> IPAddress | None:
        """The backend DSR id `number` stands for in `table`."""
        device = self.devices.get(table)
        return next((a for (d, a), i in self.ids.items() if d == device and str(i) == number), None)

    def _tables_in_use(self) -> set[str]:
        tables = set()
        for key, service in self.services.items():
            tables.add(r.nat_table(key.family))
            if service.device is not None:
                tables.add(r.dsr_table(service.device))
        return tables

    def _table_ok(self, table: str) -> bool:
        definition = self._tabledef(table)
        if definition is None:
            return False
        if not set(definition.sets) <= self.sets.get(table, set()):
            return False
        return all(self._chain_ok(chain) for chain in definition.chains)

    def _tabledef(self, table: str) -> r.TableDef | None:
        if table.startswith("netdev "):
            device = self.devices.get(table)
            return r.dsr_tabledef(device) if device is not None else None
        family = _family(table)
        return r.nat_tabledef(family) if family is not None else None

    def _chain_ok(self, chain: r.Chain) -> bool:
        info = self.chains.get((chain.table, chain.name))
        return info is not None and info.rule_comments == (r.RULE_COMMENT,) * len(chain.rules)

    # ------------------------------------------------------------ writing

    def stage(self, steps: Sequence[Step], route: Route) -> Staged:
        """Check each step against the model as changed by the steps before it; one script for the lot."""
        results, touched = self._check(steps, route)
        ids = self._ids_for(touched)
        return self._script(results, touched, ids, ids, set())

    def stage_parts(
        self, steps: Sequence[Step], route: Route, size: int, first: int | None = None
    ) -> tuple[list[StepResult], Iterator[Staged]]:
        """As `stage`, with the script cut into parts of about `size` elements, each made when it is asked for.

        The first part holds about `first` elements (default: `size`), each next one twice as many
        as the one before, up to `size`: a small first part puts the kernel to work early, and each
        part is made while the kernel takes the one before, which takes it longer than the making.

        Every part is a script of its own, to be committed once the kernel took it, in order.
        A service's elements are all in one part; the first part makes the tables and chains its
        services need and the DSR ids the apply hands out, the later ones the chains theirs need;
        ids given back come last, once nothing uses them.

        When no step concerns DSR, the steps are checked service by service as the parts are made
        (a step changes its own service's model only), so the kernel takes the first part before the
        last step is checked: a cold apply of 10,000 services goes to the kernel 0.2 s sooner. The
        results are then filled in as the parts are made: read them once every part was asked for.
        With DSR, every step is checked first: the ids the apply hands out are numbered in one order.
        """
        first = size if first is None else first
        groups = self._by_service(steps)
        if groups is None:
            results, touched = self._check(steps, route)
            return results, self._parts(results, iter(touched.items()), self._ids_for(touched), size, first)
        pending: list[StepResult | None] = [None] * len(steps)
        checked = self._check_by_service(pending, groups, route)
        results = cast(list[StepResult], pending)  # every entry is set once the parts are all made
        return results, self._parts(results, checked, self._unused_ids(), size, first)

    def _check(
        self, steps: Sequence[Step], route: Route
    ) -> tuple[list[StepResult], dict[ServiceKey, r.ServiceState | None]]:
        touched: dict[ServiceKey, r.ServiceState | None] = {}
        return [self._checked(step, touched, route) for step in steps], touched

    def _checked(self, step: Step, touched: dict[ServiceKey, r.ServiceState | None], route: Route) -> StepResult:
        """`step` checked against the model `touched` holds (which it changes if it passes), as its result."""
        try:
            self._step(step, touched, route)
        except r.Refused as err:
            return StepResult(step, f"{_VERB[step.op]} refused by nftables: {err}", err.errno)
        return StepResult(step)

    def _by_service(self, steps: Sequence[Step]) -> dict[ServiceKey, list[tuple[int, Step]]] | None:
        """Each service's steps (with their places), in the order of its first; None if a step concerns DSR
        (a destination forwarded by DSR, or a service that has DSR destinations now)."""
        groups: dict[ServiceKey, list[tuple[int, Step]]] = {}
        services = self.services
        for index, step in enumerate(steps):
            spec = step.new if step.new is not None else step.old
            if step.ref[0] is _SERVICE:
                assert isinstance(spec, Service)
                key = spec.key
            else:
                assert isinstance(spec, Destination)
                old = step.old
                if spec.forwarding is _ROUTE or (isinstance(old, Destination) and old.forwarding is _ROUTE):
                    return None
                key = spec.key.service
            group = groups.get(key)
            if group is None:
                held = services.get(key)
                if held is not None and held.device is not None:
                    return None
                group = groups[key] = []
            group.append((index, step))
        return groups

    def _check_by_service(
        self, results: list[StepResult | None], groups: dict[ServiceKey, list[tuple[int, Step]]], route: Route
    ) -> Iterator[tuple[ServiceKey, r.ServiceState | None]]:
        """Each service's steps checked in their order, its result set in `results`; the service as they
        leave it (none if every step of it was refused)."""
        for key, members in groups.items():
            touched: dict[ServiceKey, r.ServiceState | None] = {}
            for index, step in members:
                results[index] = self._checked(step, touched, route)
            if key in touched:
                yield key, touched[key]

    def _unused_ids(self) -> dict[Backend, int | None]:
        """The ids no service uses (left behind by an earlier NCC), to give back: with no DSR step, all
        `_ids_for` would change."""
        return {backend: None for backend in self.ids if not self.users.get(backend)}

    def _parts(
        self,
        results: list[StepResult],
        services: Iterator[tuple[ServiceKey, r.ServiceState | None]],
        ids: dict[Backend, int | None],
        size: int,
        first: int,
    ) -> Iterator[Staged]:
        handed_out = {backend: number for backend, number in ids.items() if number is not None}
        given_back = {backend: number for backend, number in ids.items() if number is None}
        made: set[tuple[str, str]] = set()  # tables and chains an earlier part makes
        part: dict[ServiceKey, r.ServiceState | None] = {}
        weight = 0
        limit = first
        for key, state in services:
            part[key] = state
            weight += 2 + 2 * len(state.dests) if state is not None else 1  # about its elements
            if weight >= limit:
                yield self._script(results, part, ids, handed_out, made)
                part, weight, handed_out, limit = {}, 0, {}, min(size, 2 * limit)
        if part or handed_out:
            yield self._script(results, part, ids, handed_out, made)
        if given_back:
            yield self._script(results, {}, ids, given_back, made)

    def _current(self, key: ServiceKey, touched: dict[ServiceKey, r.ServiceState | None]) -> r.ServiceState | None:
        """Service `key` as the steps staged so far leave it (a copy the next steps may change)."""
        if key in touched:
            return touched[key]
        state = self.services.get(key)
        return state.copy() if state is not None else None

    def _step(self, step: Step, touched: dict[ServiceKey, r.ServiceState | None], route: Route) -> None:
        spec = step.new if step.new is not None else step.old
        if step.ref[0] is _SERVICE:
            assert isinstance(spec, Service)
            state = self._current(spec.key, touched)
            if step.op is _DELETE:
                if state is None:
                    raise r.Refused(f"no such service {spec.key}", errno.ENOENT)
                touched[spec.key] = None
                return
            r.check_service(spec)
            if state is None:
                state = r.ServiceState(spec)
            else:
                state.spec = spec
            for dest in state.dests.values():
                if dest.forwarding is _MASQ:
                    r.check_destination(state, dest, state.device)
            touched[spec.key] = state
            return
        assert isinstance(spec, Destination)
        key = spec.key.service
        state = self._current(key, touched)
        if state is None:
            raise r.Refused(f"no such service {key}", errno.ENOENT)
        if step.op is _DELETE:
            if spec.key not in state.dests:
                raise r.Refused(f"no such destination {spec.key}", errno.ENOENT)
            del state.dests[spec.key]
            if not state.dests:
                state.device = None
            touched[key] = state
            return
        routed = spec.forwarding is _ROUTE
        device = route(spec.key.address) if routed and not key.fwmark else None
        r.check_destination(state, spec, device)
        state.dests[spec.key] = spec
        if routed:
            state.device = device
        touched[key] = state

    def _script(
        self,
        results: list[StepResult],
        touched: dict[ServiceKey, r.ServiceState | None],
        ids: dict[Backend, int | None],
        written_ids: dict[Backend, int | None],
        made: set[tuple[str, str]],
    ) -> Staged:
        """The script for `touched`, rendered with `ids`, writing `written_ids`; skips what `made` names."""

        def id_of(device: str, address: IPAddress) -> int:
            new = ids.get((device, address))
            return new if new is not None else self.ids[(device, address)]

        deletes: r.Elements = {}
        adds: r.Elements = {}
        rendered: dict[ServiceKey, r.Elements] = {}
        chains: list[r.Chain] = []
        tables: dict[str, r.TableDef] = {}
        for key, state in touched.items():
            wanted: r.Elements = {}
            if state is not None:
                wanted, needed = r.render(state, id_of)
                chains.extend(needed)
                nat = r.nat_table(key.family)
                if nat not in tables:
                    tables[nat] = r.nat_tabledef(key.family)
                if state.device is not None and state.forwarding is Forwarding.ROUTE:
                    tables[r.dsr_table(state.device)] = r.dsr_tabledef(state.device)
            rendered[key] = wanted
            held = self.elements.get(key)
            if not held:
                adds.update(wanted)
                continue
            for elem, value in held.items():
                if wanted.get(elem) != value:
                    deletes[elem] = value
            for elem, value in wanted.items():
                if held.get(elem) != value:
                    adds[elem] = value
        for (device, address), number in written_ids.items():
            table, name = r.dsr_table(device), f"ids{address.version}"
            if number is None:
                elem = (table, name, str(self.ids[(device, address)]))
                deletes[elem] = self.shared.get(elem, (str(address), None))
            else:
                adds[(table, name, str(number))] = (str(address), None)
        script: list[str] = []
        for table in tables.values():
            missing = table.ref not in self.sets or not set(table.sets) <= self.sets[table.ref]
            if missing and (table.ref, "") not in made:  # a table is made under its ref and no chain name
                script.extend(r.table_script(table, self.sets.get(table.ref, ())))
                made.add((table.ref, ""))
        all_chains = [c for t in tables.values() for c in t.chains] + r.order_chains(chains)
        remade = [c for c in all_chains if (c.table, c.name) not in made and not self._chain_ok(c)]
        for chain in remade:
            script.extend(r.chain_script(chain, (chain.table, chain.name) in self.chains))
            made.add((chain.table, chain.name))
        if deletes or adds:
            script.extend(r.elements_script(deletes, adds))
        return Staged(results, script, touched, deletes, adds, remade, list(tables.values()), written_ids, rendered)

    def _ids_for(self, touched: dict[ServiceKey, r.ServiceState | None]) -> dict[Backend, int | None]:
        """Ids to hand out (backends a touched service starts using) and to give back (no user left)."""
        gained: set[Backend] = set()
        lost: set[Backend] = set()
        for key, state in touched.items():
            old = self.services.get(key)
            if (old is None or old.device is None) and (state is None or state.device is None):
                continue  # no DSR before or after: no id involved
            before = r.dsr_backends(old) if old is not None else set()
            after = r.dsr_backends(state) if state is not None else set()
            gained |= after - before
            lost |= before - after  # given back below only if no service keeps using it
        changes: dict[Backend, int | None] = {}
        taken: dict[str, int] = {}
        for device, address in sorted(gained, key=lambda b: (b[0], b[1].version, int(b[1]))):
            if (device, address) in self.ids:
                continue
            if device not in taken:
                taken[device] = max((i for (d, _), i in self.ids.items() if d == device), default=0)
            taken[device] += 1
            changes[(device, address)] = taken[device]
        for backend in lost - gained:
            if backend in self.ids and not self._other_users(backend, touched):
                changes[backend] = None
        for backend in self.ids.keys() - gained:  # left behind by an earlier NCC: no service uses them
            if not self.users.get(backend):
                changes[backend] = None
        return changes

    def _other_users(self, backend: Backend, touched: dict[ServiceKey, r.ServiceState | None]) -> bool:
        for key in self.users.get(backend, ()):
            state = touched[key] if key in touched else self.services.get(key)
            if state is not None and backend in r.dsr_backends(state):
                return True
        return False

    def commit(self, staged: Staged) -> None:
        """The kernel accepted `staged.script`: hold what it wrote."""
        if staged.script:
            for table in staged.tables:
                self.sets.setdefault(table.ref, set()).update(table.sets)
                if table.device is not None:
                    self.devices[table.ref] = table.device
        for chain in staged.chains:
            hook = "ingress" if "ingress" in chain.header else None
            self.chains[(chain.table, chain.name)] = ChainInfo(hook, None, (r.RULE_COMMENT,) * len(chain.rules))
        # Each touched service now holds exactly what it rendered: its stale elements were deleted.
        for key, elements in staged.rendered.items():
            if elements:
                self.elements[key] = elements
            else:
                self.elements.pop(key, None)
        for (device, address), number in staged.ids.items():
            table, name = r.dsr_table(device), f"ids{address.version}"
            if number is None:
                self.shared.pop((table, name, str(self.ids.pop((device, address)))), None)
            else:
                self.ids[(device, address)] = number
                self.shared[(table, name, str(number))] = (str(address), None)
        for key, state in staged.services.items():
            old = self.services.pop(key, None)
            for backend in r.dsr_backends(old) if old is not None else ():
                self.users.get(backend, set()).discard(key)
            if state is not None:
                self.services[key] = state
                for backend in r.dsr_backends(state):
                    self.users.setdefault(backend, set()).add(key)


def _family(table: str) -> Family | None:
    return _FAMILIES.get(table.partition(" ")[0])


_FAMILIES = {"ip": Family.INET, "ip6": Family.INET6}


def _owner(elem: r.ElemKey) -> ServiceKey | None:
    """The service an element belongs to (None for shared ones: DSR ids)."""
    table, name, key = elem
    if name in ("svc4", "slots4", "live4", _TRAFFIC4):
        return _service_key(Family.INET, False, key)
    if name in ("svc6", "slots6", _TRAFFIC6):
        return _service_key(Family.INET6, False, key)
    family = _family(table)
    if family is None:
        return None
    if name in ("svc", "dest", "slots", r.TRAFFIC):
        return _service_key(family, False, key)
    if name in ("msvc", "mdest", "mslots"):
        return _service_key(family, True, key)
    return None


def _service_key(family: Family, mark: bool, key: str) -> ServiceKey | None:
    parts = key.split(" . ", 1 if mark else 3)
    return _parsed_service_key(family, mark, tuple(parts[:1] if mark else parts[:3]))


@functools.lru_cache(maxsize=1 << 16)  # every element of a service starts with its key: parse it once
def _parsed_service_key(family: Family, mark: bool, parts: tuple[str, ...]) -> ServiceKey | None:
    try:
        if mark:
            return ServiceKey.mark(family, int(parts[0]))
        address = ipaddress.ip_address(parts[0])
        if Family.of(address) is not family:
            return None
        return ServiceKey.ip(Protocol(int(parts[1])), address, int(parts[2]))
    except (ValueError, IndexError):
        return None


def _destination_key(service: ServiceKey, key: str) -> DestinationKey | None:
    """The destination a `dest`/`mdest` element of `service` names (its key ends with address . port)."""
    head, _, port = key.rpartition(" . ")
    address = head.rpartition(" . ")[2]
    try:
        return DestinationKey(service, _address(address), int(port))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def _address(text: str) -> IPAddress:
    """An address as nft prints it (ValueError if it is none); cached: backends recur across services."""
    return ipaddress.ip_address(text)
