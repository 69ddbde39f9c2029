"""Choosing the dataplane: seesaw.cfg `[dataplane] backend = auto|ipvs|nftables|sim`, or --dataplane.

`auto` picks ipvs when the kernel has it (the generic netlink family "IPVS"
resolves), otherwise nftables when libnftables is usable, and says which and
why. It never falls back to `sim` on its own: a node that cannot program its
kernel must say so, not pretend. Every refusal names what is missing and what
to do about it.

Implementations register in `IMPLEMENTATIONS`; a backend without one (yet)
is refused by name. The kernel ones are composites of parts (see
seesaw/ncc/kernel/): `ipvs` = IPVS services + host network + nftables VIP
filters when nftables is usable (UML guests have IPVS but no nftables);
`nftables` = nftables services + host network + nftables filters.
`choose` says which dataplane a backend means here and why without making
it (`seesaw doctor` uses it); `select` makes it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import importlib.util
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seesaw.ncc.dataplane import Dataplane, DataplaneError
from seesaw.ncc.kernel.nft_exec import LIBNFTABLES
from seesaw.ncc.sim import SimDataplane

if TYPE_CHECKING:
    from seesaw.ncc.kernel.part import Part

log = logging.getLogger("seesaw.ncc")

BACKENDS = ("auto", "ipvs", "nftables", "sim")
KERNEL_BACKENDS = ("ipvs", "nftables")

IMPLEMENTATIONS: dict[str, Callable[[], Dataplane]] = {"sim": SimDataplane}

CAP_NET_ADMIN = 12

_LABEL = {"ipvs": "IPVS", "nftables": "nftables"}
_ENABLE = {
    "ipvs": "load the IPVS module: modprobe ip_vs (and list it in /etc/modules-load.d/seesaw.conf)",
    "nftables": "install libnftables and its Python binding: apt-get install nftables libnftables1 python3-nftables "
    "(or pip install pip-nftables in the venv)",
}
_SIM_HINT = "set [dataplane] backend = sim in seesaw.cfg to run without a kernel dataplane"


class DataplaneUnavailable(Exception):
    """The chosen dataplane cannot run here; the message says why and what to do."""


@dataclass(frozen=True)
class Probe:
    """Whether this machine can run one kernel dataplane, and why (not)."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class Choice:
    backend: str
    reason: str


@dataclass(frozen=True)
class Selection:
    dataplane: Dataplane
    reason: str


def probe_ipvs() -> Probe:
    """Resolve the generic netlink family "IPVS" (what the ipvs dataplane binds to)."""
    try:
        from pyroute2.netlink.exceptions import NetlinkError
        from pyroute2.netlink.generic import GenericNetlinkSocket
        from pyroute2.netlink.generic.ipvs import ipvsmsg
    except ImportError as err:
        return Probe(False, f"pyroute2 is not importable ({err})")
    sock = GenericNetlinkSocket()
    try:
        sock.bind("IPVS", ipvsmsg)
    except NetlinkError as err:
        if err.code == errno.ENOENT:
            return Probe(False, 'the kernel has no generic netlink family "IPVS" (ip_vs is not loaded or built)')
        return Probe(False, f"asking the kernel for IPVS failed: {err}")
    except OSError as err:
        return Probe(False, f"asking the kernel for IPVS failed: {err}")
    finally:
        sock.close()
    return Probe(True, 'the generic netlink family "IPVS" resolves')


def probe_nftables() -> Probe:
    """Load libnftables and make a context (what the nftables dataplane runs on)."""
    library = ctypes.util.find_library("nftables")
    if library is None:
        return Probe(False, "libnftables is not installed")
    try:
        lib = ctypes.CDLL(library)
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        with LIBNFTABLES:  # never beside another thread's use of the library
            context = lib.nft_ctx_new(0)
            if not context:
                return Probe(False, f"{library} could not make a context")
            lib.nft_ctx_free(context)
    except (OSError, AttributeError) as err:
        return Probe(False, f"{library} is not usable: {err}")
    if importlib.util.find_spec("nftables") is None:
        return Probe(False, f"{library} is present but its Python binding (module 'nftables') is not importable")
    return Probe(True, f"{library} is usable")


PROBES: dict[str, Callable[[], Probe]] = {"ipvs": probe_ipvs, "nftables": probe_nftables}


def has_capability(bit: int, status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process holds capability `bit` (e.g. CAP_NET_ADMIN) in its effective set."""
    for line in status.read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return os.geteuid() == 0


def choose(
    backend: str,
    source: str = "[dataplane] backend in seesaw.cfg",
    *,
    implementations: Mapping[str, Callable[[], Dataplane]] = IMPLEMENTATIONS,
    probes: Mapping[str, Callable[[], Probe]] = PROBES,
    net_admin: Callable[[], bool] = lambda: has_capability(CAP_NET_ADMIN),
) -> Choice:
    """Which dataplane `backend` means on this machine, and why; DataplaneUnavailable if none can run.

    Nothing is constructed (`seesaw doctor` asks this too); `select` makes the choice.
    """
    if backend not in BACKENDS:
        raise DataplaneUnavailable(f"unknown dataplane {backend!r} ({source}); use one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return _auto(source, implementations, probes, net_admin)
    if backend not in implementations:
        raise DataplaneUnavailable(
            f"dataplane {backend!r} selected ({source}) but this build has no {_LABEL[backend]} dataplane yet; "
            + _SIM_HINT
        )
    if backend in KERNEL_BACKENDS:
        _require_net_admin(backend, net_admin)
        probe = probes[backend]()
        if not probe.ok:
            raise DataplaneUnavailable(
                f"dataplane {backend!r} selected ({source}) but {probe.detail}; to use it, {_ENABLE[backend]}; "
                f"or set [dataplane] backend = auto"
            )
        return Choice(backend, f"selected by {source}; {probe.detail}")
    return Choice(backend, f"selected by {source}; nothing is programmed in the kernel")


def select(
    backend: str,
    source: str = "[dataplane] backend in seesaw.cfg",
    *,
    implementations: Mapping[str, Callable[[], Dataplane]] = IMPLEMENTATIONS,
    probes: Mapping[str, Callable[[], Probe]] = PROBES,
    net_admin: Callable[[], bool] = lambda: has_capability(CAP_NET_ADMIN),
) -> Selection:
    """The dataplane `backend` names, made, with the reason it was chosen; DataplaneUnavailable if it cannot run."""
    choice = choose(backend, source, implementations=implementations, probes=probes, net_admin=net_admin)
    try:
        dataplane = implementations[choice.backend]()
    except DataplaneError as err:
        raise DataplaneUnavailable(f"dataplane {choice.backend!r} ({choice.reason}) cannot start: {err}") from err
    return Selection(dataplane, choice.reason)


def _auto(
    source: str,
    implementations: Mapping[str, Callable[[], Dataplane]],
    probes: Mapping[str, Callable[[], Probe]],
    net_admin: Callable[[], bool],
) -> Choice:
    notes = []
    for backend in KERNEL_BACKENDS:
        probe = probes[backend]()
        if not probe.ok:
            notes.append(f"{backend}: {probe.detail}; to enable it, {_ENABLE[backend]}")
            continue
        if backend not in implementations:
            notes.append(f"{backend}: {probe.detail}, but this build has no {_LABEL[backend]} dataplane yet")
            continue
        _require_net_admin(backend, net_admin)
        skipped = "".join(f"; {note}" for note in notes)
        return Choice(backend, f"auto ({source}): {backend}, because {probe.detail}{skipped}")
    raise DataplaneUnavailable(
        f"no kernel dataplane is usable for backend = auto ({source}):\n  "
        + "\n  ".join(notes)
        + f"\nor {_SIM_HINT} (nothing will be load-balanced)"
    )


def _require_net_admin(backend: str, net_admin: Callable[[], bool]) -> None:
    if not net_admin():
        raise DataplaneUnavailable(
            f"dataplane {backend!r} needs CAP_NET_ADMIN, which this process (uid {os.geteuid()}) lacks: "
            "run seesaw-ncc as root (the watchdog does), or grant it with "
            "`setcap cap_net_admin,cap_net_raw+ep`, or use --dataplane sim"
        )


# The kernel dataplanes, assembled from parts (seesaw/ncc/kernel/part.py). Each is
# registered once its services part exists in this build.


def _filters_part() -> list[Part]:
    """The nftables VIP filters, when this build has them and nftables is usable; else none, said in the log."""
    if not _have(_NFT_FILTERS):
        log.warning("VIP filtering is off: this build has no nftables filters part")
        return []
    probe = probe_nftables()
    if not probe.ok:
        log.warning("VIP filtering is off: %s; to enable it, %s", probe.detail, _ENABLE["nftables"])
        return []
    from seesaw.ncc.kernel.nft_filters import NftFilters

    return [NftFilters()]


def ipvs_dataplane() -> Dataplane:
    """IPVS services + the host network + nftables VIP filters (when nftables is usable)."""
    from seesaw.ncc.kernel.composite import KernelDataplane
    from seesaw.ncc.kernel.host import HostNetwork
    from seesaw.ncc.kernel.ipvs import IPVSServices

    return KernelDataplane("ipvs", [IPVSServices(), HostNetwork(), *_filters_part()])


def nftables_dataplane() -> Dataplane:
    """nftables services + the host network + nftables VIP filters."""
    from seesaw.ncc.kernel.composite import KernelDataplane
    from seesaw.ncc.kernel.host import HostNetwork
    from seesaw.ncc.kernel.nft_filters import NftFilters
    from seesaw.ncc.kernel.nft_services import NftServices

    return KernelDataplane("nftables", [NftServices(), HostNetwork(), NftFilters()])


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


_NFT_FILTERS = "seesaw.ncc.kernel.nft_filters"
if _have("seesaw.ncc.kernel.ipvs"):
    IMPLEMENTATIONS["ipvs"] = ipvs_dataplane
if _have("seesaw.ncc.kernel.nft_services") and _have(_NFT_FILTERS):
    IMPLEMENTATIONS["nftables"] = nftables_dataplane
