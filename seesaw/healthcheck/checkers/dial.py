"""Sockets for probes: the right family, SO_MARK for DSR/TUN, clear errors.

In DSR and TUN mode the engine points a check at the VIP and gives it a mark;
IPVS forwards the marked, locally generated packets to the one backend its
fwmark service holds, so the probe proves that backend answers for the VIP.
Setting a mark needs CAP_NET_ADMIN; without it the check fails and says so.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .base import CheckFailed, os_error_text
from .poller import WRITABLE, ConnectPoller
from .tls import describe_tls_error


def family_of(ip: str) -> socket.AddressFamily:
    """The family of an IP literal (checker targets are validated when the checker is built)."""
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def host_port(ip: str, port: int) -> str:
    """`10.0.0.1:80` or `[2001:db8::1]:80`."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def open_socket(ip: str, kind: socket.SocketKind, mark: int, proto: int = 0) -> socket.socket:
    """A non-blocking socket for talking to `ip`, marked with `mark` when non-zero."""
    sock = socket.socket(family_of(ip), kind | socket.SOCK_NONBLOCK, proto)
    if mark:
        try:
            set_mark(sock, mark)
        except BaseException:
            sock.close()
            raise
    return sock


def set_mark(sock: socket.socket, mark: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
    except PermissionError:
        raise CheckFailed(
            f"cannot set socket mark {mark} for a DSR/TUN check: needs CAP_NET_ADMIN "
            "(run seesaw-healthcheck as root or grant it CAP_NET_ADMIN)"
        ) from None
    except OSError as err:
        raise CheckFailed(f"cannot set socket mark {mark}: {os_error_text(err)}") from None


def close(sock: socket.socket) -> None:
    """Close a socket a cancelled sock_* call may have left registered with the loop.

    Closing a registered fd would leave the selector believing it still
    watches that number, and the next socket to get it would never wake up.
    """
    fd = sock.fileno()
    if fd >= 0:
        loop = asyncio.get_running_loop()
        loop.remove_reader(fd)
        loop.remove_writer(fd)
    sock.close()


async def connect(sock: socket.socket, ip: str, port: int, poller: ConnectPoller | None = None) -> None:
    """Connect `sock` to ip:port; a failure says where it tried to go.

    A TCP check is mostly this, so it is kept lean: connect_ex, then one wait
    for writability, in `poller` when given (the scheduler's; see poller.py),
    else with the loop's add_writer. Not loop.sock_connect, which would also
    run the IP literal through the resolver path and raise and catch on the way.
    """
    err = sock.connect_ex((ip, port))
    if err == errno.EINPROGRESS:
        if poller is not None:
            events = await poller.wait_writable(sock)
            err = 0 if events == WRITABLE else sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        else:
            await _writable(sock)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        reason = os_error_text(OSError(err, os.strerror(err)))  # OSError(errno, ...) picks the subclass
        raise CheckFailed(f"connect to {host_port(ip, port)}: {reason}")


async def _writable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    fd = sock.fileno()
    done: asyncio.Future[None] = loop.create_future()
    loop.add_writer(fd, _resolve, done)
    try:
        await done
    finally:
        loop.remove_writer(fd)


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


async def connect_tcp(ip: str, port: int, mark: int, poller: ConnectPoller | None = None) -> socket.socket:
    """A connected TCP socket; the caller closes it (a plain close() is safe: the connect is over)."""
    sock = open_socket(ip, socket.SOCK_STREAM, mark)
    try:
        await connect(sock, ip, port, poller)
    except BaseException:
        close(sock)
        raise
    return sock


def connect_udp(ip: str, port: int, mark: int) -> socket.socket:
    """A connected UDP socket (so ICMP errors surface as ConnectionRefusedError); the caller closes it."""
    sock = open_socket(ip, socket.SOCK_DGRAM, mark)
    try:
        sock.connect((ip, port))  # UDP connect does not block
    except OSError as err:
        sock.close()
        raise CheckFailed(f"connect to {host_port(ip, port)}: {os_error_text(err)}") from None
    return sock


async def send_datagram(sock: socket.socket, payload: bytes) -> None:
    try:
        sock.send(payload)
    except BlockingIOError:
        await asyncio.get_running_loop().sock_sendall(sock, payload)


@asynccontextmanager
async def stream(
    sock: socket.socket,
    where: str,
    *,
    limit: int = 16 * 1024,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Streams over a connected socket, TLS on top if asked; the socket is closed on exit.

    `limit` bounds what the reader buffers, so a backend that sends without
    end costs at most about twice that much memory.
    """
    try:
        reader, writer = await asyncio.open_connection(sock=sock, limit=limit)
    except BaseException:
        close(sock)
        raise
    raw = writer.transport  # aborted on exit: no TLS close_notify wait, no lingering fd
    try:
        if tls is not None:
            try:
                await writer.start_tls(tls, server_hostname=server_hostname)
            except ssl.SSLError as err:
                raise CheckFailed(f"{where}: {describe_tls_error(err)}") from None
            except (ConnectionError, EOFError):
                raise CheckFailed(f"{where}: TLS handshake failed: connection closed by the backend") from None
        yield reader, writer
    finally:
        raw.abort()


async def read_prefix(reader: asyncio.StreamReader, size: int) -> bytes:
    """Up to `size` bytes: fewer only if the backend closed first."""
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as err:
        return err.partial
