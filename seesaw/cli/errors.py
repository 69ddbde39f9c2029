"""The one error type the CLI reports: a message for the operator, exit status 1.

Anything that goes wrong in a command (a bad argument, an unknown name, an
engine that is not running or refuses a request) is raised as `CliError`; the
one-shot mode prints its message on stderr and exits 1, the shell prints it and
reads the next line. No traceback ever reaches the operator. `RpcFailure` is
how a call fails on its way to and from the engine, before it is worded for
the operator.
"""

from __future__ import annotations


class CliError(Exception):
    """A failure to report as one message (and, in one-shot mode, exit status 1)."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage  # printed on stdout before the message, as Seesaw does

    def __str__(self) -> str:
        return self.message


class EngineUnreachable(CliError):
    """The engine socket cannot be used at all (not running, stale socket, no permission)."""


class RpcFailure(Exception):
    """A call to the engine that failed, whatever carried it; `EngineClient` turns it into a `CliError`."""

    def __init__(self, code: str, details: str, transport: bool = False) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code  # the gRPC status code's name: "UNAVAILABLE", "DEADLINE_EXCEEDED", ...
        self.details = details  # the server's message, or what went wrong on the way
        self.transport = transport  # True if it failed on the way (the connection), not by the server's answer
