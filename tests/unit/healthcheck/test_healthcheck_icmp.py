"""ICMP echo: packet format (pure) and a real ping to the loopback where permitted."""

import asyncio
import os
import socket
import struct

import pytest

from seesaw.healthcheck.checkers import icmp, run_check
from seesaw.healthcheck.checkers.base import CheckFailed
from seesaw.healthcheck.checkers.ping import PingChecker, open_icmp_socket


@pytest.mark.parametrize(
    ("data", "want"),
    [
        (bytes.fromhex("0001f203f4f5f6f7"), 0x220D),  # RFC 1071's worked example
        (bytes.fromhex("0001f203f4f5f6"), 0x2304),  # odd length: padded with a zero byte
        (b"", 0xFFFF),
    ],
)
def test_checksum(data, want):
    assert icmp.checksum(data) == want


def test_echo_request_v4_is_64_bytes_with_valid_checksum():
    packet = icmp.echo_request(0x1234, 7, v6=False)
    assert len(packet) == 64
    assert packet[:2] == b"\x08\x00"  # echo request, code 0
    assert struct.unpack("!HH", packet[4:8]) == (0x1234, 7)
    assert icmp.checksum(packet) == 0
    assert packet[8:].startswith(b"HealthcheckHealthcheck")


def _reply(request: bytes, ident=None) -> bytes:
    kind = icmp.ECHO_REPLY_V4
    _, code, _, got_ident, seq = struct.unpack("!BBHHH", request[:8])
    ident = got_ident if ident is None else ident
    header = struct.pack("!BBHHH", kind, code, 0, ident, seq)
    return struct.pack("!BBHHH", kind, code, icmp.checksum(header + request[8:]), ident, seq) + request[8:]


def test_reply_matching():
    request = icmp.echo_request(0x1234, 7, v6=False)
    reply = _reply(request)
    ip_header = bytes([0x45]) + bytes(19)
    assert icmp.is_echo_reply(reply, 0x1234, 7, v6=False, has_ip_header=False)
    assert icmp.is_echo_reply(ip_header + reply, 0x1234, 7, v6=False, has_ip_header=True)
    assert not icmp.is_echo_reply(reply, 0x1234, 8, v6=False, has_ip_header=False), "other sequence"
    assert not icmp.is_echo_reply(reply, 0x4321, 7, v6=False, has_ip_header=False), "other identifier"
    assert icmp.is_echo_reply(_reply(request, ident=99), None, 7, v6=False, has_ip_header=False), "ping sockets"
    corrupt = reply[:-1] + bytes([reply[-1] ^ 0xFF])
    assert not icmp.is_echo_reply(corrupt, 0x1234, 7, v6=False, has_ip_header=False), "bad checksum"
    assert not icmp.is_echo_reply(request, 0x1234, 7, v6=False, has_ip_header=False), "our own request"
    assert not icmp.is_echo_reply(b"\x00\x00", 0x1234, 7, v6=False, has_ip_header=False)


def _icmp_permitted(v6: bool) -> bool:
    try:
        sock, _ = open_icmp_socket(v6)
    except CheckFailed:
        return False
    sock.close()
    return True


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"], ids=["v4", "v6"])
def test_ping_loopback(ip):
    if not _icmp_permitted(":" in ip):
        pytest.skip(f"ICMP sockets not permitted for uid {os.getuid()} (no CAP_NET_RAW, ping_group_range excludes us)")
    if ":" in ip:
        try:
            socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()
        except OSError:
            pytest.skip("no IPv6")
    result = asyncio.run(run_check(PingChecker(ip), 1.0))
    assert result.ok, result
    assert result.message.startswith(f"ICMP echo to {ip}: echo reply")
