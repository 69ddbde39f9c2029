"""Harness of the kernel tests: which guest a test needs, a fresh network namespace inside it, batch summaries.

Layout (see README.md):
  uml/   runs INSIDE a user-mode-linux guest (scripts/run-in-uml): real `ip_vs`.
  qemu/  runs INSIDE a qemu guest with Debian's kernel (scripts/run-in-vm): IPVS + nftables + dummy + VLAN.
  test_kernel_guests.py runs on the host and boots one guest per directory.

A test under uml/ or qemu/ is skipped unless it runs in that guest: the runner sets UML_GUEST=1 / QVM_GUEST=1,
and the kernel command line must be the runner's too, so an exported variable alone never lets a test program
the host's kernel.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

KERNEL_TESTS = Path(__file__).resolve().parent

# guest directory -> (variable the runner sets, a word only that runner's kernel command line has, runner)
GUESTS: dict[str, tuple[str, str, str]] = {
    "uml": ("UML_GUEST", "rootfstype=hostfs", "scripts/run-in-uml"),
    "qemu": ("QVM_GUEST", "QVM_MSIZE=", "scripts/run-in-vm"),
}


def _kernel_cmdline() -> str:
    try:
        return Path("/proc/cmdline").read_text()
    except OSError:
        return ""


def guest_skip_reason(guest: str) -> str | None:
    """Why a test made for `guest` must not run here, or None when this is that guest."""
    variable, cmdline_word, runner = GUESTS[guest]
    if os.environ.get(variable) != "1":
        return f"runs only inside the {guest} guest: {runner} -- python -m pytest tests/kernel/{guest} (README.md)"
    if cmdline_word not in _kernel_cmdline():
        return f"{variable}=1 is set but this kernel was not booted by {runner}; refusing to touch it"
    return None


def _guest_of(item: pytest.Item) -> str | None:
    try:
        relative = item.path.resolve().relative_to(KERNEL_TESTS)
    except ValueError:
        return None
    return relative.parts[0] if len(relative.parts) > 1 and relative.parts[0] in GUESTS else None


def pytest_runtest_setup(item: pytest.Item) -> None:
    guest = _guest_of(item)
    if guest is not None and (reason := guest_skip_reason(guest)) is not None:
        pytest.skip(reason)


_batch_summaries: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _batch_summaries.extend(value for key, value in report.user_properties if key == "kernel_batch")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per guest booted by test_kernel_guests.py, pass or fail: what ran there and how long it took."""
    if _batch_summaries:
        terminalreporter.section("kernel guest batches")
        for line in _batch_summaries:
            terminalreporter.write_line(line)


def inside_a_guest() -> bool:
    return any(guest_skip_reason(guest) is None for guest in GUESTS)


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace with `lo` up (IPVS refuses destinations while lo is down); removed afterwards.

    Only inside a guest: the guest mounts its own tmpfs on /run, so /run/netns never reaches the host.
    """
    assert inside_a_guest(), "the netns fixture is for tests under tests/kernel/uml or tests/kernel/qemu"
    name = f"kt-{uuid.uuid4().hex[:8]}"
    pyroute2_netns.create(name)
    try:
        with IPRoute(netns=name) as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
        yield name
    finally:
        pyroute2_netns.remove(name)
