"""`seesaw --ssh [USER@]HOST[:PORT]`: the node's engine socket, reached over SSH (paramiko).

The SSH server connects to the engine socket itself, as the logged-in user
(OpenSSH's `direct-streamlocal@openssh.com` channel, what `ssh -L
local:/run/seesaw/engine/engine.sock` uses), so the engine's SO_PEERCRED
check sees that user: what it may do is what it could do logged in there.

* Keys: `--ssh-key FILE`, the SSH agent, or ~/.ssh/id_*.
* The host key must be in ~/.ssh/known_hosts (or `--known-hosts FILE`); an
  unknown or changed key stops the connection with its fingerprint and the
  command to check and add it. Nothing is ever added automatically.

Locally, gRPC talks to a Unix socket in a private temporary directory; each
connection made to it is carried over a new channel of the one SSH session.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import select
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import grpc
import paramiko

from seesaw.cli import remote_ecu
from seesaw.cli.client import CONNECT_TIMEOUT, HINT_RUNNING
from seesaw.cli.errors import EngineUnreachable
from seesaw.cli.grpc_caller import CHANNEL_OPTIONS, GrpcCaller, signals_held
from seesaw.pb import engine_pb2_grpc

# paramiko logs refusals on its own (through logging's last-resort handler, on stderr): the CLI says them once.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

DEFAULT_PORT = 22
STREAMLOCAL = "direct-streamlocal@openssh.com"
CHUNK = 65536


def parse_target(text: str) -> tuple[str | None, str, int]:
    """`[user@]host[:port]` -> (user or None, host, port); ValueError with what was expected."""
    user, _, hostport = text.strip().rpartition("@")
    try:
        host, port = remote_ecu.parse_target(hostport, DEFAULT_PORT)
    except ValueError:
        raise ValueError(f"expected [USER@]HOST[:PORT], got {text!r}") from None
    return user or None, host, port


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a host key."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


class UnknownHostKey(Exception):
    def __init__(self, key: paramiko.PKey) -> None:
        super().__init__(key.get_name())
        self.key = key


class _Refuse(paramiko.MissingHostKeyPolicy):
    """Never accept a host key known_hosts does not hold; keep it to show its fingerprint."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise UnknownHostKey(key)


def open_streamlocal(transport: paramiko.Transport, path: str, timeout: float) -> paramiko.Channel:
    """Open a `direct-streamlocal@openssh.com` channel to the Unix socket `path` on the server.

    paramiko's open_channel knows only the TCP and X11 forwarding kinds, so this builds the request
    (RFC 4254 channel open, with OpenSSH's socket path, reserved string and reserved uint32) the same way.
    """
    from paramiko.channel import Channel
    from paramiko.common import cMSG_CHANNEL_OPEN
    from paramiko.message import Message

    if not transport.active:
        raise paramiko.SSHException("SSH session not active")
    with transport.lock:
        window = transport._sanitize_window_size(None)
        packet = transport._sanitize_packet_size(None)
        chanid = transport._next_channel()
        message = Message()
        message.add_byte(cMSG_CHANNEL_OPEN)
        message.add_string(STREAMLOCAL)
        message.add_int(chanid)
        message.add_int(window)
        message.add_int(packet)
        message.add_string(path)
        message.add_string("")
        message.add_int(0)
        channel = Channel(chanid)
        transport._channels.put(chanid, channel)
        transport.channel_events[chanid] = event = threading.Event()
        transport.channels_seen[chanid] = True
        channel._set_transport(transport)
        channel._set_window(window, packet)
    transport._send_user_message(message)
    deadline = time.monotonic() + timeout
    while not event.wait(0.05):
        if not transport.active:
            raise transport.get_exception() or paramiko.SSHException("the SSH session ended")
        if time.monotonic() > deadline:
            raise paramiko.SSHException(f"no answer to the channel request within {timeout:g} s")
    opened = transport._channels.get(chanid)
    if opened is None:
        raise transport.get_exception() or paramiko.SSHException("the server refused the channel")
    return opened


class SSHConnector:
    def __init__(
        self,
        target: str,
        engine_socket: Path,
        key_file: Path | None = None,
        known_hosts: Path | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        try:
            self.user, self.host, self.port = parse_target(target)
        except ValueError as err:
            raise EngineUnreachable(f"--ssh: {err}") from None
        self.engine_socket = engine_socket
        self.key_file = key_file
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self.login = f"{self.user}@{self.host}" if self.user else self.host
        self.where = f"the engine at {engine_socket} on {self.login} (over SSH)"
        self._client: paramiko.SSHClient | None = None
        self._bridge: _Bridge | None = None

    # -- the SSH session ---------------------------------------------------------------------------------------------

    def _session(self) -> paramiko.SSHClient:
        if self._client is not None:
            transport = self._client.get_transport()
            if transport is not None and transport.is_active():
                return self._client
            self._client.close()
        client = paramiko.SSHClient()
        known = self.known_hosts.expanduser() if self.known_hosts else Path("~/.ssh/known_hosts").expanduser()
        try:
            client.load_host_keys(str(known))
        except FileNotFoundError:
            pass
        except OSError as err:
            raise EngineUnreachable(f"Cannot read known hosts {known}: {err.strerror or err}.") from None
        client.set_missing_host_key_policy(_Refuse())
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.user,
                key_filename=str(self.key_file.expanduser()) if self.key_file else None,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
            )
        except UnknownHostKey as err:
            client.close()
            port = f"-p {self.port} " if self.port != DEFAULT_PORT else ""
            keyscan = f"ssh-keyscan {port}{self.host}"
            raise EngineUnreachable(
                f"The host key of {self.host} ({err.key.get_name()} {fingerprint(err.key)}) is not in {known}: "
                f"check that fingerprint with the host's administrator, then add it: {keyscan} >> {known}"
            ) from None
        except paramiko.BadHostKeyException as err:
            client.close()
            raise EngineUnreachable(
                f"The host key of {self.host} has CHANGED ({err.key.get_name()} {fingerprint(err.key)}; "
                f"{known} holds {fingerprint(err.expected_key)}): someone may be in the middle, or the host was "
                f"reinstalled. Connection refused; fix {known} once you know which."
            ) from None
        except paramiko.AuthenticationException as err:
            client.close()
            raise EngineUnreachable(
                f"SSH login to {self.login} was refused ({err}): no key from --ssh-key, the agent or ~/.ssh was "
                "accepted."
            ) from None
        except (paramiko.SSHException, OSError) as err:
            client.close()
            raise EngineUnreachable(f"Failed to connect to {self.login} over SSH: {_reason(err)}.") from None
        self._client = client
        return client

    def channel(self) -> paramiko.Channel:
        """A new channel to the engine socket; EngineUnreachable saying why if the server will not open one."""
        transport = self._session().get_transport()
        assert transport is not None
        try:
            return open_streamlocal(transport, str(self.engine_socket), self.connect_timeout)
        except paramiko.ChannelException as err:
            raise EngineUnreachable(
                f"{self.login} refused to connect to {self.engine_socket} ({err.text or err.code}): does the "
                "socket exist there (is seesaw running?), and does its sshd allow forwarding to it "
                "(AllowStreamLocalForwarding and AllowTcpForwarding both yes or local)?"
            ) from None
        except (paramiko.SSHException, OSError) as err:
            raise EngineUnreachable(f"The SSH session to {self.login} failed: {_reason(err)}.") from None

    # -- Connector -----------------------------------------------------------------------------------------------------

    def open(self) -> GrpcCaller:
        # paramiko's and the bridge's threads are born with the operator's signals blocked, as gRPC's are: a
        # Ctrl-C must reach the main thread (and the shell's readline).
        with signals_held():
            self.channel().close()  # fail here, in one line, if the engine socket cannot be reached at all
            if self._bridge is None:
                self._bridge = _Bridge(self)
            channel = grpc.insecure_channel(f"unix:{self._bridge.path}", options=CHANNEL_OPTIONS)
        return GrpcCaller(channel, engine_pb2_grpc.EngineStub(channel))

    def transport_failure(self, details: str) -> str:
        if self._bridge is not None and self._bridge.error:
            return self._bridge.error
        try:
            self.channel().close()
        except EngineUnreachable as err:
            return str(err)
        return f"Lost the connection to {self.where}: {details or 'unavailable'}. {HINT_RUNNING}"

    def close(self) -> None:
        if self._bridge is not None:
            self._bridge.close()
            self._bridge = None
        if self._client is not None:
            self._client.close()
            self._client = None


class _Bridge:
    """A local Unix socket; every connection to it is copied to and from a new SSH channel."""

    def __init__(self, connector: SSHConnector) -> None:
        self.connector = connector
        self.directory = Path(tempfile.mkdtemp(prefix="seesaw-ssh-"))
        self.path = self.directory / "engine.sock"
        self.error = ""
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(8)
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="ssh-bridge", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                local, _ = self.listener.accept()
            except OSError:
                return
            try:
                remote = self.connector.channel()
            except EngineUnreachable as err:
                self.error = str(err)
                local.close()
                continue
            self.error = ""
            threading.Thread(target=_copy, args=(local, remote, self._closed), name="ssh-copy", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _copy(local: socket.socket, remote: paramiko.Channel, closed: threading.Event) -> None:
    """Copy both ways until either side ends."""
    try:
        while not closed.is_set():
            readable, _, _ = select.select([local, remote], [], [], 0.5)
            if local in readable:
                data = local.recv(CHUNK)
                if not data:
                    break
                remote.sendall(data)
            if remote in readable:
                data = remote.recv(CHUNK)
                if not data:
                    break
                local.sendall(data)
    except OSError:
        pass
    finally:
        remote.close()
        local.close()


def _reason(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return text.rstrip(".")
