"""The connect poller with real sockets: connects through it, failures, cancelled waits, its own lifecycle."""

import asyncio
import os
import socket

import pytest
from hc_servers import TCPEchoServer, free_port

from seesaw.healthcheck.checkers import CheckFailed, ConnectPoller, dial, run_check
from seesaw.healthcheck.checkers.poller import WRITABLE
from seesaw.healthcheck.checkers.tcp import TCPChecker


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def full_socketpair():
    """(a, b): `a` cannot be written until `b` reads, so a writability wait on `a` stays pending."""
    a, b = socket.socketpair()
    a.setblocking(False)
    try:
        while True:
            a.send(b"x" * 65536)
    except BlockingIOError:
        pass
    return a, b


def drain(sock):
    sock.setblocking(False)
    try:
        while sock.recv(1 << 20):
            pass
    except BlockingIOError:
        pass


def test_connect_through_the_poller(tcp_echo, loopback):
    async def scenario():
        poller = ConnectPoller()
        sock = await dial.connect_tcp(loopback, tcp_echo.port, 0, poller)
        try:
            assert sock.getpeername()[1] == tcp_echo.port
        finally:
            sock.close()
        assert poller.is_open and len(poller) == 0
        poller.close()
        assert not poller.is_open

    asyncio.run(scenario())


def test_refused_connect_through_the_poller_says_so(loopback):
    port = free_port(loopback)
    host = f"[{loopback}]" if ":" in loopback else loopback

    async def scenario():
        poller = ConnectPoller()
        try:
            with pytest.raises(CheckFailed) as failed:
                await dial.connect_tcp(loopback, port, 0, poller)
        finally:
            poller.close()
        assert str(failed.value) == f"connect to {host}:{port}: connection refused"

    asyncio.run(scenario())


def test_tcp_checker_with_and_without_poller_agree(tcp_echo, loopback):
    """The scheduler's checkers wait in its poller; one-off checkers use the loop's add_writer."""
    closed = free_port(loopback)

    async def scenario():
        poller = ConnectPoller()
        out = []
        for p in (poller, None):
            for port in (tcp_echo.port, closed):
                result = await run_check(TCPChecker(loopback, port, send=b"hi", receive=b"hi", poller=p), 1.0)
                out.append((result.ok, result.message))
        poller.close()
        return out

    with_poller_ok, with_poller_refused, plain_ok, plain_refused = asyncio.run(scenario())
    assert with_poller_ok == plain_ok and with_poller_ok[0]
    assert with_poller_refused == plain_refused and not with_poller_refused[0]


def test_a_cancelled_wait_leaves_nothing_behind_and_the_socket_can_wait_again():
    a, b = full_socketpair()

    async def scenario():
        poller = ConnectPoller()
        waiting = asyncio.create_task(poller.wait_writable(a))
        await asyncio.sleep(0.05)
        assert not waiting.done() and len(poller) == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert len(poller) == 0
        again = asyncio.create_task(poller.wait_writable(a))  # still registered: re-armed, not an error
        await asyncio.sleep(0.05)
        assert not again.done()
        drain(b)  # now `a` is writable
        assert await asyncio.wait_for(again, 2.0) & WRITABLE
        poller.close()

    try:
        asyncio.run(scenario())
    finally:
        a.close()
        b.close()


def test_close_cancels_pending_waits_and_releases_the_epoll_fd():
    a, b = full_socketpair()

    async def scenario():
        base = open_fds()
        poller = ConnectPoller()
        waiting = asyncio.create_task(poller.wait_writable(a))
        await asyncio.sleep(0.05)
        assert open_fds() == base + 1, "one epoll fd while open"
        poller.close()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert open_fds() == base

    try:
        asyncio.run(scenario())
    finally:
        a.close()
        b.close()


def test_the_poller_follows_the_running_loop():
    """A scheduler's poller outlives one asyncio.run (tests, restarts): the next loop gets a fresh epoll set."""
    server = TCPEchoServer("127.0.0.1")
    poller = ConnectPoller()

    async def once():
        sock = await dial.connect_tcp("127.0.0.1", server.port, 0, poller)
        sock.close()

    try:
        asyncio.run(once())
        asyncio.run(once())
    finally:
        poller.close()
        server.close()


def test_many_connects_at_once_through_one_poller():
    class Hangup(asyncio.Protocol):
        def connection_made(self, transport):
            transport.close()

    async def scenario():
        server = await asyncio.get_running_loop().create_server(Hangup, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        poller = ConnectPoller()

        async def one():
            sock = await dial.connect_tcp("127.0.0.1", port, 0, poller)
            sock.close()

        results = await asyncio.gather(*(one() for _ in range(500)), return_exceptions=True)
        poller.close()
        server.close()
        await server.wait_closed()
        return results

    results = asyncio.run(scenario())
    assert [r for r in results if r is not None] == []
