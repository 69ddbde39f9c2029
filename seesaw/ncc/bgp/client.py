"""An asyncio client of one daemon's VTY socket (`bgpd.vty`): connect, `enable`, commands, replies.

A session is short: NCC opens one per operation, so a restarted bgpd never
leaves it holding a dead connection. Every wait is bounded by `timeout`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType

from seesaw.ncc.bgp import vty

DEFAULT_TIMEOUT = 10.0
_READ_SIZE = 65536


class VTYUnavailable(Exception):
    """The daemon cannot be reached (no socket, refused, gone, silent); the text says what to do.

    `absent`: nothing listens at the socket path at all (no file, or a stale one), i.e. bgpd is not running.
    """

    def __init__(self, message: str, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent


class VTYSession:
    def __init__(self, path: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self.commands = 0  # sent in this session
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = vty.Decoder()

    async def __aenter__(self) -> VTYSession:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect and enter enable mode (a daemon's socket starts in view mode)."""
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.path)), self.timeout
            )
        except (FileNotFoundError, ConnectionRefusedError) as err:
            raise VTYUnavailable(
                f"bgpd is not running at {self.path} ({err.strerror}): start FRR's bgpd (bgpd=yes in "
                "/etc/frr/daemons, `systemctl restart frr`), or point seesaw-ncc --bgpd-vty at its VTY socket",
                absent=True,
            ) from err
        except (OSError, TimeoutError) as err:
            raise VTYUnavailable(f"cannot connect to bgpd at {self.path}: {err}; is bgpd running?") from err
        reply = await self.command("enable")
        if not reply.ok:
            await self.close()
            raise VTYUnavailable(f"bgpd at {self.path} refused `enable`: {reply.describe()}")

    async def command(self, line: str) -> vty.Reply:
        """Send one command and wait for its reply."""
        if self._reader is None or self._writer is None:
            raise VTYUnavailable(f"not connected to bgpd at {self.path}")
        self.commands += 1
        try:
            self._writer.write(vty.encode(line))
            await asyncio.wait_for(self._writer.drain(), self.timeout)
            return await asyncio.wait_for(self._read_reply(), self.timeout)
        except TimeoutError as err:
            raise VTYUnavailable(f"bgpd at {self.path} did not answer `{line}` within {self.timeout:g} s") from err
        except (OSError, EOFError) as err:
            reason = str(err) or "connection closed"
            raise VTYUnavailable(f"bgpd at {self.path} went away during `{line}`: {reason}") from err

    async def _read_reply(self) -> vty.Reply:
        assert self._reader is not None
        while True:
            data = await self._reader.read(_READ_SIZE)
            if not data:
                raise EOFError("connection closed")
            replies = self._decoder.feed(data)
            if not replies:
                continue
            if len(replies) > 1 or self._decoder.pending:
                raise VTYUnavailable(f"bgpd at {self.path} answered one command with more than one reply")
            return replies[0]

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), self.timeout)
            except (OSError, TimeoutError):
                pass
