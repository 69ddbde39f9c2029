"""Calls through grpcio, for the remote ways to the engine (`--ecu` over TLS, `--ssh`).

`GrpcCaller` makes a generated stub's calls and turns `grpc.RpcError` into
the CLI's `RpcFailure`, telling a failure of the connection (gRPC's own
wording, UNAVAILABLE) from an UNAVAILABLE the engine answered with. Channels
are created with the operator's signals held, so that gRPC's threads never
take a Ctrl-C meant for the main thread.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from seesaw.cli.errors import RpcFailure

Reply = TypeVar("Reply", bound=Message)

# The same limits as every other component's channels (seesaw.common.rpc), repeated here so that the CLI does
# not import the server side's health and reflection modules: it must start fast.
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.enable_http_proxy", 0),
]

# How gRPC itself words a failure of the connection (as opposed to an UNAVAILABLE the engine answers with,
# such as "HA is not connected to the engine").
_TRANSPORT_WORDING = (
    "failed to connect to all addresses",
    "Socket closed",
    "GOAWAY",
    "Connection reset",
    "Broken pipe",
    "Stream removed",
    "Connection refused",
    "No such file or directory",
)

# Signals an operator sends with the keyboard or `kill`. They must reach the main thread: a Ctrl-C taken by one
# of gRPC's own threads would leave the shell's readline waiting for a key.
_OPERATOR_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP}


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold operator signals while gRPC may start threads, so that its threads are born with them blocked.

    A signal that arrives meanwhile is delivered (to this, the main thread) as soon as the call returns, which
    is at most the call timeout later.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _OPERATOR_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def transport_failure(err: grpc.RpcError) -> bool:
    """True if the call failed on the way to or from the engine, not because the engine said no."""
    if not isinstance(err, grpc.Call) or err.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    details = err.details() or ""
    return not details or any(words in details for words in _TRANSPORT_WORDING)


def failure(err: grpc.RpcError) -> RpcFailure:
    """The CLI's view of a failed gRPC call."""
    if not isinstance(err, grpc.Call):
        return RpcFailure("UNKNOWN", str(err), transport=True)
    return RpcFailure(err.code().name, err.details() or "", transport=transport_failure(err))


class GrpcCaller:
    """A channel and a generated stub on it (the Engine's, or the ECU's copy of it)."""

    def __init__(self, channel: grpc.Channel, stub: Any) -> None:
        self.channel = channel
        self.stub = stub

    def call(
        self,
        method: str,
        request: Message,
        reply_type: type[Reply],
        timeout: float,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        rpc: Callable[..., Reply] = getattr(self.stub, method)
        try:
            with signals_held():
                return rpc(request, timeout=timeout, metadata=tuple(metadata) or None)
        except grpc.RpcError as err:
            raise failure(err) from None

    def close(self) -> None:
        with signals_held():
            self.channel.close()
