"""The nftables filters part: FILTER objects in `table inet seesaw_filter` (see nft_filter_render.py).

A Part (see part.py) for the composite kernel dataplane; construct it with no
arguments: `NftFilters()`. It is optional: a kernel without nftables (UML)
runs without it. It acts in the caller's network namespace.

`read()` lists our table and reports each filter whose elements are all there
and right (a filter with an element missing or changed behind our back is
absent, so NCC's audit adds it back). `apply(steps)` writes the difference
between each touched filter as rendered and as held, all steps in one nft
transaction; if the kernel refuses it, the table is read again and the steps
are retried one transaction each, so only the one at fault fails.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Sequence

from seesaw.ncc.dataplane import DataplaneError, KernelState
from seesaw.ncc.kernel import nft_filter_render as fr
from seesaw.ncc.kernel import nft_render
from seesaw.ncc.kernel.nft_exec import Nft, NftError, Runner
from seesaw.ncc.kernel.nft_parse import ChainInfo, Listing, parse
from seesaw.ncc.kernel.nft_render import Elements
from seesaw.ncc.model import IPAddress, Kind, VIPFilter
from seesaw.ncc.steps import Op, Step, StepResult

log = logging.getLogger("seesaw.ncc.nftables")

_VERB = {Op.ADD: "add", Op.UPDATE: "update", Op.DELETE: "delete"}


class NftFilters:
    kinds = frozenset({Kind.FILTER})

    def __init__(self, nft: Runner | None = None) -> None:
        self._nft: Runner = nft if nft is not None else Nft()
        self._table = fr.tabledef()
        self._held: Elements = {}
        self._sets: set[str] = set()
        self._chains: dict[tuple[str, str], ChainInfo] = {}
        self._filters: dict[IPAddress, VIPFilter] = {}
        self._loaded = False

    def read(self) -> KernelState:
        try:
            listing = parse(self._nft.list(f"table {fr.TABLE}"))
        except NftError as err:
            raise DataplaneError(f"reading table {fr.TABLE} failed: {err}", err.errno) from err
        self._load(listing)
        state = KernelState()
        if not self._skeleton_ok():
            return state  # every filter is re-added, and the table repaired with the first
        by_vip = fr.owned(self._held)
        for address, spec in self._filters.items():
            wanted = fr.render(spec)
            held = {elem: self._held[elem] for elem in by_vip.get(address, ())}
            if wanted == held:
                state.objects[(Kind.FILTER, address)] = spec
        return state

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        if not self._loaded:
            self.read()
        results, touched = self._stage(steps)
        script, deletes, adds = self._script(touched)
        if not script:
            return results
        try:
            self._nft.run("\n".join(script))
        except NftError as err:
            log.warning(
                "nftables refused a filter transaction of %d steps (%s); retrying step by step", len(steps), err
            )
            self.read()
            return [self._one(step) for step in steps]
        self._commit(touched, deletes, adds)
        return results

    def inline_safe(self, steps: Sequence[Step]) -> bool:
        """Always (see dataplane.py): this part goes through libnftables alone, never pyroute2."""
        return True

    def close(self) -> None:
        """Nothing to release: libnftables contexts hold no kernel state."""

    def _one(self, step: Step) -> StepResult:
        results, touched = self._stage([step])
        if not results[0].ok:
            return results[0]
        script, deletes, adds = self._script(touched)
        if script:
            try:
                self._nft.run("\n".join(script))
            except NftError as err:
                return StepResult(step, f"nftables refused it: {err}", err.errno or errno.EINVAL)
            self._commit(touched, deletes, adds)
        return results[0]

    def _stage(self, steps: Sequence[Step]) -> tuple[list[StepResult], dict[IPAddress, VIPFilter | None]]:
        touched: dict[IPAddress, VIPFilter | None] = {}
        results = []
        for step in steps:
            spec = step.spec
            assert isinstance(spec, VIPFilter)
            present = touched[spec.address] if spec.address in touched else self._filters.get(spec.address)
            if step.op is not Op.ADD and present is None:
                results.append(StepResult(step, f"{_VERB[step.op]}: no filter for {spec.address}", errno.ENOENT))
                continue
            touched[spec.address] = None if step.op is Op.DELETE else spec
            results.append(StepResult(step))
        return results, touched

    def _script(self, touched: dict[IPAddress, VIPFilter | None]) -> tuple[list[str], Elements, Elements]:
        by_vip = fr.owned(self._held)
        deletes: Elements = {}
        adds: Elements = {}
        for address, spec in touched.items():
            wanted = fr.render(spec) if spec is not None else {}
            for elem in by_vip.get(address, ()):
                if wanted.get(elem) != self._held[elem]:
                    deletes[elem] = self._held[elem]
            for elem, value in wanted.items():
                if self._held.get(elem) != value:
                    adds[elem] = value
        if not deletes and not adds and self._skeleton_ok():
            return [], deletes, adds
        script = []
        if not set(self._table.sets) <= self._sets:
            script.extend(nft_render.table_script(self._table, self._sets))
        for chain in self._table.chains:
            if not self._chain_ok(chain):
                script.extend(nft_render.chain_script(chain, (chain.table, chain.name) in self._chains))
        script.extend(nft_render.elements_script(deletes, adds))
        return script, deletes, adds

    def _commit(self, touched: dict[IPAddress, VIPFilter | None], deletes: Elements, adds: Elements) -> None:
        self._sets |= set(self._table.sets)
        for chain in self._table.chains:
            self._chains[(chain.table, chain.name)] = ChainInfo(
                None, None, (nft_render.RULE_COMMENT,) * len(chain.rules)
            )
        for elem in deletes:
            self._held.pop(elem, None)
        self._held.update(adds)
        for address, spec in touched.items():
            if spec is None:
                self._filters.pop(address, None)
            else:
                self._filters[address] = spec

    def _load(self, listing: Listing) -> None:
        self._held = dict(listing.elements)
        self._sets = listing.sets.get(fr.TABLE, set())
        self._chains = dict(listing.chains)
        self._filters = fr.read(self._held)
        self._loaded = True

    def _skeleton_ok(self) -> bool:
        return set(self._table.sets) <= self._sets and all(self._chain_ok(c) for c in self._table.chains)

    def _chain_ok(self, chain: nft_render.Chain) -> bool:
        info = self._chains.get((chain.table, chain.name))
        return info is not None and info.rule_comments == (nft_render.RULE_COMMENT,) * len(chain.rules)
