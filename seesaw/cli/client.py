"""The CLI's connection to the engine, on the engine's Unix socket (`UnixConnector`), through the ECU over
TLS (`seesaw.cli.remote_ecu`) or over SSH (`seesaw.cli.remote_ssh`). The connector opens a `Caller` (what
makes the calls) and explains a failure of its transport.

On the local socket the calls are made by `seesaw.cli.h2`, without grpcio: loading grpcio and setting up its
channel took as long as the rest of `seesaw -c ...`. The remote ways use grpcio (`seesaw.cli.grpc_caller`).

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
import socket
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from google.protobuf.message import DecodeError, Message

from seesaw import __version__
from seesaw.cli.errors import CliError, EngineUnreachable, RpcFailure
from seesaw.cli.h2 import UnaryChannel
from seesaw.common.call_metadata import OMIT_COUNTERS
from seesaw.pb import common_pb2, engine_pb2, ha_pb2

CONNECT_TIMEOUT = 2.0
CALL_TIMEOUT = 10.0
HINT_RUNNING = "Is seesaw running? (systemctl status seesaw)"
GRPC_UNIMPLEMENTED_DETAILS = "Method not implemented!"  # what a generated servicer says for a method it lacks
ENGINE_SERVICE = "seesaw.engine.Engine"
Metadata = Sequence[tuple[str, str]]

Reply = TypeVar("Reply", bound=Message)


def _connect(path: Path, timeout: float) -> socket.socket | str:
    """A socket connected to `path`, or why nothing can be reached there (one short phrase)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError as err:
        sock.close()
        return _reason(path, err, timeout)
    return sock


def _reason(path: Path, err: OSError, timeout: float) -> str:
    if isinstance(err, FileNotFoundError):
        return "no such file"
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, ConnectionRefusedError):
        try:
            is_socket = stat.S_ISSOCK(path.stat().st_mode)
        except OSError:
            is_socket = True
        return "connection refused" if is_socket else "not a socket"
    if isinstance(err, TimeoutError):
        return f"no answer within {timeout:g} s"
    return (err.strerror or errno.errorcode.get(err.errno or 0, str(err))).lower()


def probe(path: Path, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """Why nothing can be reached at `path` (one short phrase), or None if something accepts connections."""
    connected = _connect(path, timeout)
    if isinstance(connected, str):
        return connected
    connected.close()
    return None


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


class Caller(Protocol):
    """Makes the calls on one connection: the reply, or RpcFailure.

    `reply_type` is what the engine replies; a caller through a gRPC stub gets the stub's own type (the
    ECU's WhoAmI replies a WhoAmIReply).
    """

    def call(
        self, method: str, request: Message, reply_type: type[Reply], timeout: float, metadata: Metadata = ()
    ) -> Reply: ...

    def close(self) -> None: ...


class Connector(Protocol):
    """How the CLI reaches the engine's API, and how it explains a failure of that way."""

    where: str  # "the engine at /run/seesaw/engine/engine.sock", "the ECU at lb1:10256", ...

    def open(self) -> Caller:
        """A caller on a new connection; raise EngineUnreachable saying why if it cannot be had."""
        ...

    def transport_failure(self, details: str) -> str:
        """The line to print when a call failed on the way (the connection broke or could not be made)."""
        ...

    def close(self) -> None: ...


class UnixCaller:
    """Engine calls on the engine's Unix socket (`seesaw.cli.h2`), one connection for as long as it lasts.

    A connection the engine closed meanwhile (it restarted, or dropped an idle shell's connection) is
    replaced before a call goes out on it, so that the shell's next command just works.
    """

    def __init__(self, connector: UnixConnector, channel: UnaryChannel) -> None:
        self.connector = connector
        self.channel = channel

    def call(
        self, method: str, request: Message, reply_type: type[Reply], timeout: float, metadata: Metadata = ()
    ) -> Reply:
        if not self.channel.usable():
            self.channel = self.connector.channel()
        reply = self.channel.call(f"/{ENGINE_SERVICE}/{method}", request.SerializeToString(), timeout, metadata)
        try:
            return reply_type.FromString(reply)
        except DecodeError as err:
            raise RpcFailure("INTERNAL", f"the reply is not a {reply_type.__name__}: {err}") from None

    def close(self) -> None:
        self.channel.close()


class UnixConnector:
    """The engine's own Unix socket on this machine."""

    def __init__(self, path: Path, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.path = path
        self.connect_timeout = connect_timeout
        self.where = f"the engine at {path}"

    def channel(self) -> UnaryChannel:
        """A new connection to the engine; EngineUnreachable saying why if there is none to be had."""
        connected = _connect(self.path, self.connect_timeout)
        if isinstance(connected, str):
            raise EngineUnreachable(unreachable_message(self.path, connected))
        return UnaryChannel(connected, user_agent=f"seesaw-cli/{__version__}")

    def open(self) -> UnixCaller:
        return UnixCaller(self, self.channel())

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
        self._caller: Caller | None = None

    def connect(self) -> Caller:
        """Connect once; raise CliError saying why if the engine cannot be reached."""
        if self._caller is None:
            self._caller = self.connector.open()
        return self._caller

    def reset(self) -> None:
        """Drop the connection; the next call makes a new one."""
        if self._caller is not None:
            self._caller.close()
        self._caller = None

    def close(self) -> None:
        """Close the connection and whatever the connector holds (an SSH session)."""
        self.reset()
        self.connector.close()

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Message, reply_type: type[Reply], metadata: Metadata = ()) -> Reply:
        caller = self.connect()
        try:
            return caller.call(method, request, reply_type, self.call_timeout, metadata)
        except RpcFailure as failure:
            message = self.describe(failure, method)
            if failure.transport:
                # Start afresh next time (the shell's next command).
                self.reset()
                raise EngineUnreachable(message) from None
            raise CliError(message) from None

    def describe(self, failure: RpcFailure, method: str) -> str:
        """One line for a failed call: the engine's own words, or what went wrong on the way."""
        code, details = failure.code, failure.details
        if failure.transport:
            return self.connector.transport_failure(details)
        if code == "DEADLINE_EXCEEDED":
            where = self.connector.where[0].upper() + self.connector.where[1:]
            return (
                f"{where} did not answer {method} within {self.call_timeout:g} s; "
                "it may be overloaded or stuck (journalctl -u seesaw)."
            )
        if code == "UNIMPLEMENTED" and details in ("", GRPC_UNIMPLEMENTED_DETAILS):
            return f"The engine does not implement {method}: is it older than this CLI ({__version__})?"
        # The engine's own words, as it wrote them (a refused config lists one problem per line).
        text = "\n".join(line.rstrip() for line in details.strip().splitlines())
        return text or f"{method} failed: {code}"

    # -- the Engine service -----------------------------------------------------------------------------------------

    def cluster_status(self) -> engine_pb2.ClusterStatus:
        return self._call("GetClusterStatus", common_pb2.Empty(), engine_pb2.ClusterStatus)

    def ha_status(self) -> ha_pb2.HAStatus:
        return self._call("GetHAStatus", common_pb2.Empty(), ha_pb2.HAStatus)

    def config_status(self) -> engine_pb2.ConfigStatus:
        return self._call("GetConfigStatus", common_pb2.Empty(), engine_pb2.ConfigStatus)

    def vservers(self, counters: bool = True) -> engine_pb2.VserverList:
        """Every vserver; without `counters`, services and destinations carry no dataplane counters."""
        metadata = () if counters else (OMIT_COUNTERS,)
        return self._call("ListVservers", common_pb2.Empty(), engine_pb2.VserverList, metadata)

    def vlans(self) -> engine_pb2.VLANList:
        return self._call("ListVLANs", common_pb2.Empty(), engine_pb2.VLANList)

    def bgp_neighbors(self) -> engine_pb2.BGPNeighborList:
        return self._call("ListBGPNeighbors", common_pb2.Empty(), engine_pb2.BGPNeighborList)

    def version(self) -> engine_pb2.Version:
        return self._call("GetVersion", common_pb2.Empty(), engine_pb2.Version)

    def reload_config(self, force: bool = False) -> engine_pb2.ReloadReply:
        if force:  # `config reload force`: past max_delete_share
            return self._call("Reload", engine_pb2.ReloadRequest(force=True), engine_pb2.ReloadReply)
        return self._call("ReloadConfig", common_pb2.Empty(), engine_pb2.ReloadReply)

    def set_config_source(self, source: str) -> engine_pb2.ConfigSourceReply:
        return self._call(
            "SetConfigSource", engine_pb2.ConfigSourceRequest(source=source), engine_pb2.ConfigSourceReply
        )

    def override(self, target: int, name: str, state: int) -> engine_pb2.OverrideReply:
        request = engine_pb2.OverrideRequest(target=target, name=name, state=state)  # type: ignore[arg-type]
        return self._call("Override", request, engine_pb2.OverrideReply)

    def failover(self) -> engine_pb2.FailoverReply:
        return self._call("Failover", common_pb2.Empty(), engine_pb2.FailoverReply)

    def whoami(self) -> Any:
        """engine_pb2.Caller (engine) or ecu_pb2.WhoAmIReply (ECU): user, role, groups, via, granted_vservers."""
        return self._call("WhoAmI", common_pb2.Empty(), engine_pb2.Caller)

    def dataplane(self) -> engine_pb2.DataplaneView:
        return self._call("GetDataplane", common_pb2.Empty(), engine_pb2.DataplaneView)

    def config_diff(self) -> engine_pb2.ConfigDiff:
        return self._call("GetConfigDiff", common_pb2.Empty(), engine_pb2.ConfigDiff)
