"""TCP, TCP_TLS and UDP checkers against real loopback echo servers (Seesaw's TestTCPChecker/TestUDPChecker)."""

import asyncio
import socket

import pytest
from hc_servers import TCPEchoServer, free_port, server_tls_context

from seesaw.healthcheck.checkers import run_check
from seesaw.healthcheck.checkers.tcp import TCPChecker
from seesaw.healthcheck.checkers.udp import UDPChecker

TIMEOUT = 0.5  # failing rows wait for bytes that never come

# (send, receive, expected) - Seesaw's tcpTests
TCP_TESTS = [
    ("", "", True),
    ("foo", "foo", True),
    ("foo\n", "foo", True),
    ("foo", "foo\n", False),
    ("foo", "foooo", False),
    ("", "foo", False),
]

# Seesaw's udpTests, binary payloads included
UDP_TESTS = [
    ("", "", True),
    ("foo", "foo", True),
    ("foo\n", "foo", True),
    ("foo", "foo\n", False),
    ("foo", "foooo", False),
    ("", "foo", False),
    ("\x00\x01\x02\x03", "\x00\x01\x02\x03", True),
    ("\x00\x01", "\x00\x01\x02\x03", False),
    ("\x00\x01", "\x02", False),
    ("\x00\x01", "", True),
]


def check(checker, timeout=TIMEOUT):
    return asyncio.run(run_check(checker, timeout))


@pytest.mark.parametrize(("send", "receive", "expected"), TCP_TESTS)
def test_tcp_checker_table(tcp_echo, loopback, send, receive, expected):
    result = check(TCPChecker(loopback, tcp_echo.port, send=send.encode(), receive=receive.encode()))
    assert result.ok is expected, result


def test_tcp_checker_closed_listener_fails(tcp_echo, loopback):
    port = tcp_echo.port
    tcp_echo.close()
    result = check(TCPChecker(loopback, port))
    assert not result.ok
    host = f"[{loopback}]" if ":" in loopback else loopback
    assert result.message == f"connect to {host}:{port}: connection refused"


def test_tcp_messages_say_what_was_seen(tcp_echo, loopback):
    ok = check(TCPChecker(loopback, tcp_echo.port, send=b"foo\n", receive=b"foo"))
    assert ok.ok and ok.message.endswith("got b'foo'")
    assert ok.latency > 0
    bad = check(TCPChecker(loopback, tcp_echo.port, send=b"bar", receive=b"foo"))
    assert not bad.ok and bad.message.endswith("got b'bar', expected b'foo'")
    silent = check(TCPChecker(loopback, tcp_echo.port, receive=b"foo"), timeout=0.3)
    assert not silent.ok and silent.message.endswith("timed out after 0.3 s")


def test_tcp_closed_early_says_so(loopback):
    with socket.socket(socket.AF_INET6 if ":" in loopback else socket.AF_INET) as listener:
        listener.bind((loopback, 0))
        listener.listen()

        def serve_two_bytes():
            conn, _ = listener.accept()
            conn.recv(10)
            conn.sendall(b"he")
            conn.close()

        async def scenario():
            server = asyncio.get_running_loop().run_in_executor(None, serve_two_bytes)
            result = await run_check(TCPChecker(loopback, listener.getsockname()[1], send=b"x", receive=b"hello"), 2.0)
            await server
            return result

        result = asyncio.run(scenario())
    assert not result.ok
    assert "connection closed after 2 bytes b'he', expected b'hello'" in result.message


def test_tcp_tls_checker(loopback, tls_files):
    srv = TCPEchoServer(loopback, tls=server_tls_context(tls_files))
    plain = TCPEchoServer(loopback)
    try:
        assert check(TCPChecker(loopback, srv.port, use_tls=True, tls_verify=False)).ok
        echoed = check(TCPChecker(loopback, srv.port, send=b"ping\n", receive=b"ping", use_tls=True, tls_verify=False))
        assert echoed.ok, echoed
        untrusted = check(TCPChecker(loopback, srv.port, use_tls=True, tls_verify=True))
        assert not untrusted.ok
        assert "certificate not trusted" in untrusted.message and "tls_verify: false" in untrusted.message
        wrong = check(TCPChecker(loopback, plain.port, use_tls=True, tls_verify=False))
        assert not wrong.ok and "TLS handshake failed" in wrong.message
    finally:
        srv.close()
        plain.close()


@pytest.mark.parametrize(("send", "receive", "expected"), UDP_TESTS)
def test_udp_checker_table(udp_echo, loopback, send, receive, expected):
    result = check(UDPChecker(loopback, udp_echo.port, send=send.encode(), receive=receive.encode()))
    assert result.ok is expected, result


def test_udp_checker_closed_socket_fails_at_once(udp_echo, loopback):
    port = udp_echo.port
    udp_echo.close()
    result = check(UDPChecker(loopback, port, send=b"foo"))
    assert not result.ok
    assert "port unreachable" in result.message
    assert result.latency < 0.5, "an ICMP port unreachable must fail the check without waiting for the timeout"


def test_udp_no_reply_times_out(loopback):
    with socket.socket(socket.AF_INET6 if ":" in loopback else socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind((loopback, 0))
        result = check(UDPChecker(loopback, silent.getsockname()[1], send=b"x"), timeout=0.2)
    assert not result.ok and result.message.endswith("timed out after 0.2 s")


def test_unused_port_helper_is_free(loopback):
    port = free_port(loopback)
    assert not check(TCPChecker(loopback, port)).ok
