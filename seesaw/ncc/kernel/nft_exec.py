"""libnftables, as the nftables parts use it: one atomic transaction per call, listings as JSON.

`Nft.run(text)` hands one nft script to libnftables in the caller's network
namespace. nft applies a script as a single kernel transaction: it all
happens or none of it does, so a half-applied change is impossible. A
refusal raises `NftError` with nft's own message (which quotes the offending
line) and the errno it names, when it names one.

`Nft.list(what)` returns the JSON listing of `what` ("table ip seesaw",
"tables"), or None when it does not exist.

The Python binding is the `nftables` module (Debian's python3-nftables, or
`pip install pip-nftables` in a venv); it loads libnftables.so.1.

libnftables is not documented as safe to call from two threads at once, not
even on two contexts (it keeps global state: the cache, the netlink socket
buffers, the parser's). NCC has several contexts (the services part, the
filters part) and threads (the runner's worker, the services part's sender),
so every call into the library, from making a context to each command and
option switch, holds one process-wide lock, `LIBNFTABLES`: concurrent use is
impossible, whoever calls.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from typing import Any, Protocol

# Held around every call into libnftables in this process (re-entrant: `list` calls `text`).
LIBNFTABLES = threading.RLock()

# nft prints the kernel's refusal as "Error: Could not process rule: <strerror>".
_ERRNO_BY_TEXT = {os.strerror(code): code for code in sorted(errno.errorcode, reverse=True)}


class NftError(Exception):
    """nft refused a script or a listing; `errno` is the kernel's reason when nft names one."""

    def __init__(self, message: str, errno_: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_


class NftUnavailable(NftError):
    """libnftables or its Python binding is missing."""


class Runner(Protocol):
    """What the parts need from libnftables (a real `Nft`, or a recorder in unit tests)."""

    def run(self, script: str) -> None: ...

    def list(self, what: str, terse: bool = False) -> dict[str, Any] | None: ...

    def text(self, what: str, terse: bool = False) -> str | None: ...


class Nft:
    def __init__(self) -> None:
        try:
            import nftables  # type: ignore[import-untyped]
        except ImportError as err:
            raise NftUnavailable(
                "the Python binding of libnftables is not importable: install it with "
                "`apt-get install nftables libnftables1 python3-nftables` (system Python) or "
                f"`pip install pip-nftables` (venv, with libnftables1 installed) ({err})"
            ) from err
        with LIBNFTABLES:
            try:
                self._nft = nftables.Nftables()
            except OSError as err:
                raise NftUnavailable(
                    f"libnftables.so.1 cannot be loaded: apt-get install libnftables1 ({err})", errno.ENOENT
                ) from err
            self._nft.set_json_output(False)
        self.transactions = 0  # scripts the kernel accepted

    def __del__(self) -> None:
        # The binding frees its context (nft_ctx_free) when the last reference goes, on whatever
        # thread that happens: let it go under the lock.
        context = self.__dict__.pop("_nft", None)
        if context is not None:
            with LIBNFTABLES:
                del context

    def run(self, script: str) -> None:
        """Apply `script` as one transaction; NftError (nothing applied) if any line is refused."""
        with LIBNFTABLES:
            rc, _, error = self._nft.cmd(script)
        if rc != 0:
            raise NftError(_tidy(error) or f"nft failed (rc {rc}) without a message", errno_of(error))
        self.transactions += 1

    def list(self, what: str, terse: bool = False) -> dict[str, Any] | None:
        """The JSON listing of `what` (without set elements if `terse`), or None if it does not exist.

        nft 1.0.6 cannot print every statement as JSON (a dynamic `update @map` says "stmt ops
        map have no json callback" on stderr): list such chains with `text`.
        """
        with LIBNFTABLES:
            self._nft.set_json_output(True)
            try:
                output = self.text(what, terse)
            finally:
                self._nft.set_json_output(False)
        if output is None:
            return None
        listing: dict[str, Any] = json.loads(output)
        return listing

    def text(self, what: str, terse: bool = False) -> str | None:
        """nft's listing of `what` (without set elements if `terse`), or None if it does not exist."""
        with LIBNFTABLES:
            self._nft.set_terse_output(terse)
            try:
                rc, output, error = self._nft.cmd(f"list {what}")
            finally:
                self._nft.set_terse_output(False)
        if rc != 0:
            if errno_of(error) == errno.ENOENT:
                return None
            raise NftError(f"nft list {what}: {_tidy(error)}", errno_of(error))
        return str(output)


def errno_of(message: str) -> int | None:
    """The errno whose text ends a line of nft's message ("...: File exists" -> EEXIST)."""
    for line in message.splitlines():
        _, sep, reason = line.rpartition(": ")
        if sep and reason.strip() in _ERRNO_BY_TEXT:
            return _ERRNO_BY_TEXT[reason.strip()]
    return None


def _tidy(message: str, width: int = 300) -> str:
    """nft's message without the caret lines that only make sense beside the script, long lines cut."""
    lines = [line.rstrip() for line in message.splitlines()]
    kept = [line if len(line) <= width else line[:width] + " ..." for line in lines]
    return "\n".join(line for line in kept if line and set(line.strip()) - {"^", "~"})
