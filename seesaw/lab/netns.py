"""Network namespace primitives of the lab: where we are, `ip` commands, entering a namespace.

Everything here acts on namespaces by exact name; nothing lists or removes
what it did not make. `isolated()` says whether this process runs in a
network namespace of its own (never build a lab next to a host's real links
without being asked to).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class LabError(Exception):
    """Something the lab cannot do; the message says what to do about it."""


def isolated() -> bool:
    """True in a network namespace of our own (not init's, or one without any default route)."""
    try:
        return os.readlink("/proc/self/ns/net") != os.readlink("/proc/1/ns/net")
    except OSError:
        pass
    with open("/proc/net/route") as routes:
        default_v4 = any(fields.split()[1] == "00000000" for fields in list(routes)[1:])
    with open("/proc/net/ipv6_route") as routes:  # the kernel's own reject entry (flag 0x200) does not count
        default_v6 = any(
            f[0] == "0" * 32 and f[1] == "00" and not int(f[8], 16) & 0x200 for f in map(str.split, routes)
        )
    return not default_v4 and not default_v6


def unmet_needs(nftables: bool = True) -> str:
    """What keeps a lab from being built here, with what to do about it; "" if nothing does.

    Root, a network namespace of our own (`isolated()`), and `nft` unless `nftables` is False.
    """
    if os.geteuid() != 0:
        return "needs root for network namespaces (scripts/run-tests integration)"
    if not isolated():
        return "run under unshare --net --mount (scripts/run-tests integration): this would touch the host"
    if nftables and shutil.which("nft") is None:
        return "nftables is not installed: apt-get install nftables libnftables1 (scripts/system-deps does)"
    return ""


def run(args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise LabError with the command and what it printed."""
    done = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise LabError(f"`{' '.join(args)}` failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done


def ip(netns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["ip", "-n", netns, *args], check=check)


def exec_in(netns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command inside `netns` (with that namespace's /sys, as `ip netns exec` does)."""
    return run(["ip", "netns", "exec", netns, *args], check=check)


def exists(netns: str) -> bool:
    return (NETNS_DIR / netns).exists()


def add(netns: str) -> None:
    run(["ip", "netns", "add", netns])
    ip(netns, "link", "set", "lo", "up")


def delete(netns: str) -> bool:
    """Delete namespace `netns` if it exists; True if it did."""
    if not exists(netns):
        return False
    run(["ip", "netns", "del", netns])
    return True


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")


@contextlib.contextmanager
def inside(netns: str) -> Iterator[None]:
    """Run the block in `netns`: this thread only (any number of threads at once); sockets opened inside stay there."""
    try:
        target = os.open(NETNS_DIR / netns, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise LabError(f"network namespace {netns} does not exist: is the lab up? (`seesaw lab up`)") from None
    back = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            _setns(target)
        except OSError as err:
            hint = " (entering a namespace needs root: run as root, or in the lab made with --unshare)"
            raise LabError(
                f"cannot enter network namespace {netns}: {err.strerror}{hint if err.errno == errno.EPERM else ''}"
            ) from None
        try:
            yield
        finally:
            _setns(back)
    finally:
        os.close(target)
        os.close(back)
