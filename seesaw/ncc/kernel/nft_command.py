"""Listings through the `nft` program: a read of our tables that never waits for, nor holds up, a transaction.

Every call into libnftables in NCC's process holds one lock (nft_exec.LIBNFTABLES):
a listing of 10,000 services takes seconds, and a backend flipped meanwhile would
wait for it. The audit's read lists through the `nft` program instead, in a
process of its own (the calling thread's network namespace), while NCC's own
transactions go on through libnftables beside it; the kernel gives a listing a
consistent view (nft restarts a dump a transaction interrupted). The same
surface as nft_exec.Nft's listings (`list`, `text`), so the services part reads
its tables the same way through either.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from typing import Any

from seesaw.ncc.kernel.nft_exec import NftError, errno_of

TIMEOUT = 120.0  # seconds: a listing of a very large table, on a busy machine


def nft_program() -> str | None:
    """The `nft` program's path, or None (the nftables package is not installed: listings go through the library)."""
    return shutil.which("nft") or next((path for path in ("/usr/sbin/nft", "/sbin/nft") if shutil.which(path)), None)


class NftCommand:
    """nft's listings, each from a run of the `nft` program."""

    def __init__(self, program: str) -> None:
        self._program = program

    def list(self, what: str, terse: bool = False) -> dict[str, Any] | None:
        """The JSON listing of `what` (without set elements if `terse`), or None if it does not exist."""
        output = self._list(what, terse, json_output=True)
        if output is None:
            return None
        listing: dict[str, Any] = json.loads(output)
        return listing

    def text(self, what: str, terse: bool = False) -> str | None:
        """nft's listing of `what` (without set elements if `terse`), or None if it does not exist."""
        return self._list(what, terse, json_output=False)

    def _list(self, what: str, terse: bool, json_output: bool) -> str | None:
        argv = [self._program, *(["-t"] if terse else []), *(["-j"] if json_output else []), "list", *what.split()]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise NftError(f"{' '.join(argv)}: {err}", getattr(err, "errno", None) or errno.EIO) from err
        if done.returncode != 0:
            code = errno_of(done.stderr)
            if code == errno.ENOENT:
                return None
            raise NftError(f"nft list {what}: {done.stderr.strip()[:300]}", code)
        return done.stdout
