"""The VTY framing of Quagga's and FRR's daemon sockets (`bgpd.vty`), sans I/O.

This is the protocol vtysh itself speaks to each daemon: a command is its text
followed by one NUL byte; the daemon answers with the command's output, then
three NUL bytes and one status byte (0 is success; 1 a warning such as "no
such instance"; 2 and up errors: unknown, ambiguous or incomplete command, a
refused configuration). Bytes in, replies out; no sockets here.
"""

from __future__ import annotations

from dataclasses import dataclass

TERMINATOR = b"\x00\x00\x00"

SUCCESS = 0
WARNING = 1
# FRR's lib/command.h status codes, for messages.
STATUS_NAMES = {
    0: "success",
    1: "warning",
    2: "unknown command",
    3: "ambiguous command",
    4: "incomplete command",
    5: "exceeded argument count",
    6: "no such match",
    7: "success, daemon reply",
    8: "end of input",
    9: "success, tail call",
    10: "not my instance",
    11: "warning (config failed)",
    12: "no level up",
    13: "configuration failed",
}


def encode(command: str) -> bytes:
    """One command as the daemon reads it."""
    if "\x00" in command or "\n" in command:
        raise ValueError(f"a VTY command is one line without NUL bytes: {command!r}")
    return command.encode() + b"\x00"


@dataclass(frozen=True)
class Reply:
    output: str
    status: int

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    def describe(self) -> str:
        """The daemon's message, else the status's name."""
        text = self.output.strip()
        return text or STATUS_NAMES.get(self.status, f"status {self.status}")


class Decoder:
    """Accumulates the daemon's bytes and hands out each complete reply."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Reply]:
        self._buffer += data
        replies = []
        while True:
            end = self._buffer.find(TERMINATOR)
            # The status byte follows the three NULs; a NUL status (success) may make the run longer than three.
            if end < 0 or len(self._buffer) < end + 4:
                break
            output = bytes(self._buffer[:end]).decode(errors="replace")
            replies.append(Reply(output, self._buffer[end + 3]))
            del self._buffer[: end + 4]
        return replies

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a reply."""
        return len(self._buffer)
