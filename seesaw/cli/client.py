"""The CLI's connection to the engine: one synchronous gRPC channel, on the engine's Unix socket
(`UnixConnector`), through the ECU over TLS (`seesaw.cli.remote_ecu`) or over SSH
(`seesaw.cli.remote_ssh`). The connector opens the channel and explains a failure of its transport.

Failures become one `CliError` line an operator can act on:

* the socket cannot be reached: why, exactly (no such file, connection refused,
  permission denied, not a socket), and what to check next;
* the engine refuses a request (INVALID_ARGUMENT, FAILED_PRECONDITION,
  NOT_FOUND, PERMISSION_DENIED, ...): the engine's own words;
* the engine does not answer: which deadline passed.

Connecting is lazy: commands that do not need the engine (`config check`,
`help`, a mistyped command) work without one.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import grpc

from seesaw import __version__
from seesaw.cli.errors import CliError, EngineUnreachable
from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ha_pb2

CONNECT_TIMEOUT = 2.0
CALL_TIMEOUT = 10.0
HINT_RUNNING = "Is seesaw running? (systemctl status seesaw)"
GRPC_UNIMPLEMENTED_DETAILS = "Method not implemented!"  # what a generated servicer says for a method it lacks

# The same limits as every other component's channels (seesaw.common.rpc), repeated here so that the CLI does
# not import the server side's health and reflection modules: it must start fast.
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.enable_http_proxy", 0),
]


def probe(path: Path, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """Why nothing can be reached at `path` (one short phrase), or None if something accepts connections."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except FileNotFoundError:
        return "no such file"
    except PermissionError:
        return "permission denied"
    except ConnectionRefusedError:
        try:
            is_socket = stat.S_ISSOCK(path.stat().st_mode)
        except OSError:
            is_socket = True
        return "connection refused" if is_socket else "not a socket"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as err:
        return (err.strerror or errno.errorcode.get(err.errno or 0, str(err))).lower()
    finally:
        sock.close()
    return None


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


def transport_failure(err: grpc.RpcError) -> bool:
    """True if the call failed on the way to or from the engine, not because the engine said no."""
    if not isinstance(err, grpc.Call) or err.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    details = err.details() or ""
    return not details or any(words in details for words in _TRANSPORT_WORDING)


def unreachable_message(path: Path, reason: str) -> str:
    """The one line printed when the engine socket cannot be used, with the next step to take."""
    if reason == "permission denied":
        hint = f"Run the CLI as root, or as a member of the group that owns {path.parent}."
    elif reason == "not a socket":
        hint = "Check --engine and --run-dir."
    elif reason == "connection refused":
        hint = f"Nobody is listening (a stale socket?). {HINT_RUNNING}"
    else:
        hint = HINT_RUNNING
    return f"Failed to connect to engine at {path}: {reason}. {hint}"


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


class Connector(Protocol):
    """How the CLI reaches the engine's API, and how it explains a failure of that way."""

    where: str  # "the engine at /run/seesaw/engine/engine.sock", "the ECU at lb1:10256", ...

    def open(self) -> tuple[grpc.Channel, Any]:
        """A channel and the stub to call on it; raise EngineUnreachable saying why if it cannot be had."""
        ...

    def transport_failure(self, details: str) -> str:
        """The line to print when a call failed on the way (the connection broke or could not be made)."""
        ...

    def close(self) -> None: ...


class UnixConnector:
    """The engine's own Unix socket on this machine."""

    def __init__(self, path: Path, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.path = path
        self.connect_timeout = connect_timeout
        self.where = f"the engine at {path}"

    def open(self) -> tuple[grpc.Channel, Any]:
        reason = probe(self.path, self.connect_timeout)
        if reason is not None:
            raise EngineUnreachable(unreachable_message(self.path, reason))
        # The probe above bounded the connection attempt by the connect deadline. No channel_ready_future here:
        # its connectivity-polling thread makes closing the channel (and exiting) wait up to 200 ms.
        with signals_held():
            channel = grpc.insecure_channel(f"unix:{os.fspath(self.path)}", options=CHANNEL_OPTIONS)
        return channel, engine_pb2_grpc.EngineStub(channel)

    def transport_failure(self, details: str) -> str:
        reason = probe(self.path, self.connect_timeout)
        if reason is not None:
            return unreachable_message(self.path, reason)
        return f"Lost the connection to the engine at {self.path}: {details or 'unavailable'}. {HINT_RUNNING}"

    def close(self) -> None:
        pass


class EngineClient:
    """The Engine service (or the ECU's copy of it), called synchronously. Every method returns the reply."""

    def __init__(
        self, target: Path | Connector, connect_timeout: float = CONNECT_TIMEOUT, call_timeout: float = CALL_TIMEOUT
    ) -> None:
        self.connector: Connector = UnixConnector(target, connect_timeout) if isinstance(target, Path) else target
        self.call_timeout = call_timeout
        self._channel: grpc.Channel | None = None
        self._stub: Any = None

    def connect(self) -> Any:
        """Open the channel once; raise CliError saying why if the engine cannot be reached."""
        if self._stub is None:
            self._channel, self._stub = self.connector.open()
        return self._stub

    def reset(self) -> None:
        """Drop the channel; the next call opens a new one (with no reconnect backoff)."""
        if self._channel is not None:
            with signals_held():
                self._channel.close()
        self._channel = None
        self._stub = None

    def close(self) -> None:
        """Close the channel and whatever the connector holds (an SSH session)."""
        self.reset()
        self.connector.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Any) -> Any:
        stub = self.connect()
        rpc: Callable[..., Any] = getattr(stub, method)
        try:
            with signals_held():
                return rpc(request, timeout=self.call_timeout)
        except grpc.RpcError as err:
            message = self.describe(err, method)
            if transport_failure(err):
                # Start afresh next time (the shell's next command): a new channel has no reconnect backoff.
                self.reset()
                raise EngineUnreachable(message) from None
            raise CliError(message) from None

    def describe(self, err: grpc.RpcError, method: str) -> str:
        """One line for a failed call: the engine's own words, or what went wrong on the way."""
        code = err.code() if isinstance(err, grpc.Call) else None
        details = (err.details() if isinstance(err, grpc.Call) else "") or ""
        if transport_failure(err):
            return self.connector.transport_failure(details)
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            where = self.connector.where[0].upper() + self.connector.where[1:]
            return (
                f"{where} did not answer {method} within {self.call_timeout:g} s; "
                "it may be overloaded or stuck (journalctl -u seesaw)."
            )
        if code == grpc.StatusCode.UNIMPLEMENTED and details in ("", GRPC_UNIMPLEMENTED_DETAILS):
            return f"The engine does not implement {method}: is it older than this CLI ({__version__})?"
        # The engine's own words, as it wrote them (a refused config lists one problem per line).
        text = "\n".join(line.rstrip() for line in details.strip().splitlines())
        return text or f"{method} failed: {code.name if code is not None else err}"

    # -- the Engine service -----------------------------------------------------------------------------------------

    def cluster_status(self) -> engine_pb2.ClusterStatus:
        reply: engine_pb2.ClusterStatus = self._call("GetClusterStatus", common_pb2.Empty())
        return reply

    def ha_status(self) -> ha_pb2.HAStatus:
        reply: ha_pb2.HAStatus = self._call("GetHAStatus", common_pb2.Empty())
        return reply

    def config_status(self) -> engine_pb2.ConfigStatus:
        reply: engine_pb2.ConfigStatus = self._call("GetConfigStatus", common_pb2.Empty())
        return reply

    def vservers(self) -> engine_pb2.VserverList:
        reply: engine_pb2.VserverList = self._call("ListVservers", common_pb2.Empty())
        return reply

    def vlans(self) -> engine_pb2.VLANList:
        reply: engine_pb2.VLANList = self._call("ListVLANs", common_pb2.Empty())
        return reply

    def bgp_neighbors(self) -> engine_pb2.BGPNeighborList:
        reply: engine_pb2.BGPNeighborList = self._call("ListBGPNeighbors", common_pb2.Empty())
        return reply

    def version(self) -> engine_pb2.Version:
        reply: engine_pb2.Version = self._call("GetVersion", common_pb2.Empty())
        return reply

    def reload_config(self, force: bool = False) -> engine_pb2.ReloadReply:
        if force:  # `config reload force`: past max_delete_share
            forced: engine_pb2.ReloadReply = self._call("Reload", engine_pb2.ReloadRequest(force=True))
            return forced
        reply: engine_pb2.ReloadReply = self._call("ReloadConfig", common_pb2.Empty())
        return reply

    def set_config_source(self, source: str) -> engine_pb2.ConfigSourceReply:
        reply: engine_pb2.ConfigSourceReply = self._call(
            "SetConfigSource", engine_pb2.ConfigSourceRequest(source=source)
        )
        return reply

    def override(self, target: int, name: str, state: int) -> engine_pb2.OverrideReply:
        request = engine_pb2.OverrideRequest(target=target, name=name, state=state)  # type: ignore[arg-type]
        reply: engine_pb2.OverrideReply = self._call("Override", request)
        return reply

    def failover(self) -> engine_pb2.FailoverReply:
        reply: engine_pb2.FailoverReply = self._call("Failover", common_pb2.Empty())
        return reply

    def whoami(self) -> Any:
        """engine_pb2.Caller (engine) or ecu_pb2.WhoAmIReply (ECU): user, role, groups, via, granted_vservers."""
        return self._call("WhoAmI", common_pb2.Empty())

    def dataplane(self) -> engine_pb2.DataplaneView:
        reply: engine_pb2.DataplaneView = self._call("GetDataplane", common_pb2.Empty())
        return reply

    def config_diff(self) -> engine_pb2.ConfigDiff:
        reply: engine_pb2.ConfigDiff = self._call("GetConfigDiff", common_pb2.Empty())
        return reply
