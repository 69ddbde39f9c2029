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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
    owners: dict[r.ElemKey, ServiceKey] = field(default_factory=dict)  # the service of each element written

    @property
    def writes(self) -> bool:
        return bool(self.script)


class Ledger:
    def __init__(self) -> None:
        self.services: dict[ServiceKey, r.ServiceState] = {}
        self.held: r.Elements = {}
        self.by_service: dict[ServiceKey, set[r.ElemKey]] = {}
        self.ids: dict[Backend, int] = {}
        self.users: dict[Backend, set[ServiceKey]] = {}
        self.sets: dict[str, set[str]] = {}  # table -> maps present
        self.chains: dict[tuple[str, str], ChainInfo] = {}
        self.devices: dict[str, str] = {}  # DSR table -> device

    # ------------------------------------------------------------ reading

    def load(self, listing: Listing) -> KernelState:
        """Take `listing` (our tables, freshly read) as the truth; return the objects it fully holds."""
        self.held = dict(listing.elements)
        self.sets = {table: set(names) for table, names in listing.sets.items()}
        self.chains = dict(listing.chains)
        self.devices = {
            table: info.device
            for (table, name), info in listing.chains.items()
            if name == "ingress" and info.device and table.startswith(f"netdev {r.DSR_PREFIX}")
        }
        self.by_service = {}
        self.ids = {}
        self.services = {}
        for elem in self.held:
            owner = _owner(elem)
            if owner is not None:
                self.by_service.setdefault(owner, set()).add(elem)
            elif elem[1] in ("ids4", "ids6") and elem[0] in self.devices:
                value = self.held[elem][0]
                if value is not None:
                    self.ids[(self.devices[elem[0]], ipaddress.ip_address(value))] = int(elem[2])
        self._read_registry()
        self.users = {}
        for key, state in self.services.items():
            for backend in r.dsr_backends(state):
                self.users.setdefault(backend, set()).add(key)
        return self._verify()

    def _read_registry(self) -> None:
        for (table, name, key), (_, comment) in self.held.items():
            if name not in ("svc", "msvc"):
                continue
            family = _family(table)
            if family is None:
                continue
            skey = _service_key(family, name == "msvc", key)
            spec = r.parse_service_comment(skey, comment) if skey is not None else None
            if skey is not None and spec is not None:
                self.services[skey] = r.ServiceState(spec)
        for (table, name, key), (_, comment) in self.held.items():
            if name not in ("dest", "mdest"):
                continue
            family = _family(table)
            dkey = _destination_key(family, name == "mdest", key) if family is not None else None
            if dkey is None or dkey.service not in self.services:
                continue
            dest = r.parse_destination_comment(dkey, comment)
            if dest is not None:
                self.services[dkey.service].dests[dkey] = dest
        for table, name, key in self.held:
            if name in ("svc4", "svc6") and table in self.devices:
                skey = _service_key(Family.INET if name == "svc4" else Family.INET6, False, key)
                if skey in self.services:
                    self.services[skey].device = self.devices[table]

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
            held = self.by_service.get(key, set())
            for elem in held | wanted.keys():
                if self.held.get(elem) == wanted.get(elem):
                    continue
                blamed = self._blame(service, elem, wanted.get(elem), self.held.get(elem))
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
            dkey = _destination_key(service.spec.key.family, name == "mdest", key)
            return {dkey} if dkey is not None else None
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
        try:
            if name in ("slots4", "slots6"):
                device = self.devices.get(table)
                return next((a for (d, a), i in self.ids.items() if d == device and str(i) == value), None)
            return ipaddress.ip_address(value.split(" . ")[0])
        except ValueError:
            return None

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
        touched: dict[ServiceKey, r.ServiceState | None] = {}

        def current(key: ServiceKey) -> r.ServiceState | None:
            if key in touched:
                return touched[key]
            state = self.services.get(key)
            return state.copy() if state is not None else None

        results = []
        for step in steps:
            try:
                self._step(step, current, touched, route)
            except r.Refused as err:
                results.append(StepResult(step, f"{_VERB[step.op]} refused by nftables: {err}", err.errno))
                continue
            results.append(StepResult(step))
        return self._script(results, touched)

    def _step(
        self,
        step: Step,
        current: Callable[[ServiceKey], r.ServiceState | None],
        touched: dict[ServiceKey, r.ServiceState | None],
        route: Route,
    ) -> None:
        spec = step.spec
        if isinstance(spec, Service):
            state = current(spec.key)
            if step.op is Op.DELETE:
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
                if dest.forwarding is Forwarding.MASQ:
                    r.check_destination(state, dest, state.device)
            touched[spec.key] = state
            return
        assert isinstance(spec, Destination)
        key = spec.key.service
        state = current(key)
        if state is None:
            raise r.Refused(f"no such service {key}", errno.ENOENT)
        if step.op is Op.DELETE:
            if spec.key not in state.dests:
                raise r.Refused(f"no such destination {spec.key}", errno.ENOENT)
            del state.dests[spec.key]
            if not state.dests:
                state.device = None
            touched[key] = state
            return
        device = route(spec.key.address) if spec.forwarding is Forwarding.ROUTE and not key.fwmark else None
        r.check_destination(state, spec, device)
        state.dests[spec.key] = spec
        if spec.forwarding is Forwarding.ROUTE:
            state.device = device
        touched[key] = state

    def _script(self, results: list[StepResult], touched: dict[ServiceKey, r.ServiceState | None]) -> Staged:
        ids = self._ids_for(touched)

        def id_of(device: str, address: IPAddress) -> int:
            new = ids.get((device, address))
            return new if new is not None else self.ids[(device, address)]

        deletes: r.Elements = {}
        adds: r.Elements = {}
        owners: dict[r.ElemKey, ServiceKey] = {}
        chains: list[r.Chain] = []
        tables: dict[str, r.TableDef] = {}
        for key, state in touched.items():
            wanted: r.Elements = {}
            if state is not None:
                wanted, needed = r.render(state, id_of)
                chains.extend(needed)
                tables[r.nat_table(key.family)] = r.nat_tabledef(key.family)
                if state.device is not None and state.forwarding is Forwarding.ROUTE:
                    tables[r.dsr_table(state.device)] = r.dsr_tabledef(state.device)
            for elem in self.by_service.get(key, ()):
                if wanted.get(elem) != self.held[elem]:
                    deletes[elem] = self.held[elem]
                    owners[elem] = key
            for elem, value in wanted.items():
                if self.held.get(elem) != value:
                    adds[elem] = value
                    owners[elem] = key
        for (device, address), number in ids.items():
            table, name = r.dsr_table(device), f"ids{address.version}"
            if number is None:
                elem = (table, name, str(self.ids[(device, address)]))
                deletes[elem] = self.held.get(elem, (str(address), None))
            else:
                adds[(table, name, str(number))] = (str(address), None)
        script: list[str] = []
        made_tables = [t for t in tables.values() if t.ref not in self.sets or not set(t.sets) <= self.sets[t.ref]]
        for table in made_tables:
            script.extend(r.table_script(table, self.sets.get(table.ref, ())))
        all_chains = [c for t in tables.values() for c in t.chains] + r.order_chains(chains)
        remade = [c for c in all_chains if not self._chain_ok(c)]
        for chain in remade:
            script.extend(r.chain_script(chain, (chain.table, chain.name) in self.chains))
        if deletes or adds:
            script.extend(r.elements_script(deletes, adds))
        return Staged(results, script, touched, deletes, adds, remade, list(tables.values()), ids, owners)

    def _ids_for(self, touched: dict[ServiceKey, r.ServiceState | None]) -> dict[Backend, int | None]:
        """Ids to hand out (backends a touched service starts using) and to give back (no user left)."""
        gained: set[Backend] = set()
        lost: set[Backend] = set()
        for key, state in touched.items():
            before = r.dsr_backends(self.services[key]) if key in self.services else set()
            after = r.dsr_backends(state) if state is not None else set()
            gained |= after - before
            lost |= {b for b in before - after if self.users.get(b, set()) <= {key}}
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
        owners = staged.owners
        for elem in staged.deletes:
            self.held.pop(elem, None)
            owner = owners.get(elem)
            if owner is not None:
                self.by_service.get(owner, set()).discard(elem)
        for elem, value in staged.adds.items():
            self.held[elem] = value
            owner = owners.get(elem)
            if owner is not None:
                self.by_service.setdefault(owner, set()).add(elem)
        for backend, number in staged.ids.items():
            if number is None:
                self.ids.pop(backend, None)
            else:
                self.ids[backend] = number
        for key, state in staged.services.items():
            old = self.services.pop(key, None)
            for backend in r.dsr_backends(old) if old is not None else ():
                self.users.get(backend, set()).discard(key)
            if state is not None:
                self.services[key] = state
                for backend in r.dsr_backends(state):
                    self.users.setdefault(backend, set()).add(key)
            if not self.by_service.get(key):
                self.by_service.pop(key, None)


def _family(table: str) -> Family | None:
    return {"ip": Family.INET, "ip6": Family.INET6}.get(table.split()[0])


def _owner(elem: r.ElemKey) -> ServiceKey | None:
    """The service an element belongs to (None for shared ones: DSR ids)."""
    table, name, key = elem
    if name in ("svc4", "slots4"):
        return _service_key(Family.INET, False, key)
    if name in ("svc6", "slots6"):
        return _service_key(Family.INET6, False, key)
    family = _family(table)
    if family is None:
        return None
    if name in ("svc", "dest", "slots"):
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


def _destination_key(family: Family, mark: bool, key: str) -> DestinationKey | None:
    parts = key.split(" . ")
    service = _service_key(family, mark, key)
    if service is None:
        return None
    try:
        return DestinationKey(service, ipaddress.ip_address(parts[-2]), int(parts[-1]))
    except (ValueError, IndexError):
        return None
