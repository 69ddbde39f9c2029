"""The generic netlink socket the IPVS part talks through: batched writes, dumps, one network namespace.

Writes go in batches: many requests in one datagram, no acknowledgement
asked for, and a final NLMSG_NOOP that asks for one. The kernel works through
a datagram in order while `send` runs, answers only the requests that fail
(each with its sequence number), and acknowledges the NOOP last. So a batch
of N writes costs one send and as many receives as there were refusals plus
one, and every request gets a definite answer: no answer before the NOOP's
acknowledgement means it succeeded. Batches are sized so the refusals of a
whole batch fit the receive buffer; should the kernel still drop one
(ENOBUFS), the batch is reported as failed as a whole rather than guessed at.

Dumps run one at a time, as netlink allows on one socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import socket
from collections.abc import Iterator, Sequence

from seesaw.ncc.kernel import ipvs_codec as codec

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"

BUFFER_BYTES = 8 << 20  # asked for both ways; root gets it (the FORCE options), others get the sysctl maximum
MAX_BATCH = 1024  # requests per datagram
ERROR_COST = 2048  # receive-buffer bytes one refusal may take (its skb), to size batches safely
RECV_BYTES = 1 << 16  # a dump datagram is at most 32 KiB


class NetlinkError(OSError):
    """The kernel refused a netlink request (errno in `.errno`)."""


class BatchLost(OSError):
    """The kernel dropped answers to a batch (receive buffer overrun): which requests failed is unknown."""


@contextlib.contextmanager
def in_netns(name: str | None) -> Iterator[None]:
    """Run the body in network namespace `name` (a name under /run/netns, or a path), this thread only.

    None stays where we are. A namespace that does not exist is an error (FileNotFoundError), never created.
    """
    if name is None:
        yield
        return
    target = os.open(name if "/" in name else f"{NETNS_RUN_DIR}/{name}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        current = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(current)
        finally:
            os.close(current)
    finally:
        os.close(target)


def _setns(fd: int) -> None:
    if _libc().setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns: {os.strerror(code)}")


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


class GenericNetlink:
    """One generic netlink family on one socket, in the network namespace it was opened in."""

    def __init__(self, family: str, netns: str | None = None) -> None:
        with in_netns(netns):
            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        try:
            self._sock.bind((0, 0))
            self._sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
            self._sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            _set_buffer(self._sock, SO_SNDBUFFORCE, socket.SO_SNDBUF)
            _set_buffer(self._sock, SO_RCVBUFFORCE, socket.SO_RCVBUF)
            self._sndbuf = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            self._rcvbuf = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            self._buffer = bytearray(RECV_BYTES)
            self._view = memoryview(self._buffer)
            self._seq = 0
            self.family_id = self._resolve(family)
        except BaseException:
            self._sock.close()
            raise
        self.batches = 0
        self.requests = 0

    def close(self) -> None:
        self._sock.close()

    # --- writes ---

    def batch(self, requests: Sequence[bytes]) -> list[codec.Error | None]:
        """Send `requests` in order; the kernel's refusal of each one, or None where it succeeded."""
        results: list[codec.Error | None] = [None] * len(requests)
        start = 0
        limit_count = max(1, min(MAX_BATCH, self._rcvbuf // ERROR_COST))
        limit_bytes = max(4096, self._sndbuf // 2)
        while start < len(requests):
            end, size = start, 0
            while (
                end < len(requests)
                and end - start < limit_count
                and (size == 0 or size + len(requests[end]) < limit_bytes)
            ):
                size += len(requests[end])
                end += 1
            self._send_batch(requests, start, end, results)
            start = end
        return results

    def _send_batch(self, requests: Sequence[bytes], start: int, end: int, results: list[codec.Error | None]) -> None:
        buffer = bytearray()
        first = self._reserve(end - start + 1)
        for index in range(start, end):
            offset = len(buffer)
            buffer += requests[index]
            codec.stamp(buffer, offset, codec.NLM_F_REQUEST, first + index - start)
        barrier = first + end - start
        offset = len(buffer)
        buffer += codec.NOOP
        codec.stamp(buffer, offset, codec.NLM_F_REQUEST | codec.NLM_F_ACK, barrier)
        self._sock.send(buffer)
        self.batches += 1
        self.requests += end - start
        while True:
            count = self._receive_into()
            if codec.is_ack(self._buffer, count, barrier):  # nothing refused: the common case, read in place
                return
            for message in codec.messages(self._view[:count]):  # read in full before the buffer is reused
                if message.type != codec.NLMSG_ERROR:
                    continue
                if message.seq == barrier:
                    return
                if first <= message.seq < barrier:
                    results[start + message.seq - first] = codec.decode_error(message)

    # --- reads ---

    def dump(self, request: bytes) -> list[codec.Message]:
        """The messages a dump request yields (each copied out of the receive buffer)."""
        seq = self._next_seq()
        buffer = bytearray(request)
        codec.stamp(buffer, 0, codec.NLM_F_REQUEST | codec.NLM_F_DUMP, seq)
        self._sock.send(buffer)
        found: list[codec.Message] = []
        while True:
            data = self._receive_bytes()
            for message in codec.messages(data):
                if message.seq != seq:
                    continue
                if message.type == codec.NLMSG_DONE:
                    code = codec.decode_done(message)
                    if code:
                        raise NetlinkError(code, f"dump ended with {os.strerror(code)}")
                    return found
                if message.type == codec.NLMSG_ERROR:
                    error = codec.decode_error(message)
                    if error.code:
                        raise NetlinkError(error.code, error.detail or os.strerror(error.code))
                    return found
                found.append(message)

    def request(self, request: bytes) -> codec.Message:
        """Send one request that the kernel answers with one message (no dump), and return that answer."""
        seq = self._next_seq()
        buffer = bytearray(request)
        codec.stamp(buffer, 0, codec.NLM_F_REQUEST, seq)
        self._sock.send(buffer)
        while True:
            for message in codec.messages(self._receive_bytes()):
                if message.seq != seq:
                    continue
                if message.type == codec.NLMSG_ERROR:
                    error = codec.decode_error(message)
                    raise NetlinkError(error.code, error.detail or os.strerror(error.code))
                return message

    # --- plumbing ---

    def _resolve(self, family: str) -> int:
        return codec.decode_family_id(self.request(codec.family_request(family)))

    def _next_seq(self) -> int:
        return self._reserve(1)

    def _reserve(self, count: int) -> int:
        """The first of `count` consecutive sequence numbers (32 bits, never 0, wrapping before they would)."""
        if self._seq + count >= 1 << 32:
            self._seq = 0
        first = self._seq + 1
        self._seq += count
        return first

    def _receive_bytes(self) -> bytes:
        """One datagram, copied out of the receive buffer (for messages kept beyond the next receive)."""
        return bytes(self._view[: self._receive_into()])

    def _receive_into(self) -> int:
        """Receive one datagram into the receive buffer; its length."""
        try:
            count = self._sock.recv_into(self._buffer, 0, socket.MSG_TRUNC)  # netlink: the datagram's full length
        except OSError as err:
            if err.errno == errno.ENOBUFS:
                raise BatchLost(errno.ENOBUFS, "the kernel dropped netlink answers (receive buffer overrun)") from err
            raise
        if count > len(self._buffer):
            raise NetlinkError(errno.EMSGSIZE, f"a netlink answer of {count} bytes did not fit {len(self._buffer)}")
        return count


def _set_buffer(sock: socket.socket, force: int, plain: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, BUFFER_BYTES)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, plain, BUFFER_BYTES)
