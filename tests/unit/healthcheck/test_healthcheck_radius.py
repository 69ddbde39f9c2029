"""RADIUS: Seesaw's protocol vectors (radius_test.go) and an exchange with a tiny RADIUS server."""

import asyncio
import socket
import struct
import threading

import pytest

from seesaw.healthcheck.checkers import radius_packet as rp
from seesaw.healthcheck.checkers import run_check
from seesaw.healthcheck.checkers.radius import RADIUSChecker, parse_receive, parse_send

AUTH1 = bytes(range(16))
AUTH2 = b"\xff" * 16
h = bytes.fromhex  # ignores the spaces that keep these vectors readable

# (password, secret, request authenticator, hidden password) - TestRADIUSPassword
PASSWORD_TESTS = [
    ("", "", AUTH1, b""),
    ("a", "secret", AUTH1, h("370ec9449092d367 ca5efb706cd4e707")),
    ("0123456789abcdef", "mySuperRADIUSSecret", AUTH1, h("ca9db664ec31d8ac 40e88590405d92d6")),
    ("0123456789abcdef", "mySuperRADIUSSecret!", AUTH1, h("7d8f1f9f31b9b4e9 3056e7637ca4824d")),
    (
        "0123456789abcdef!",
        "mySuperRADIUSSecret!",
        AUTH1,
        h("7d8f1f9f31b9b4e9 3056e7637ca4824d 5f0bd0565b1a1f64 c578b269488a7d47"),
    ),
    (
        "0123456789abcdef!",
        "mySuperRADIUSSecret!",
        AUTH2,
        h("d8bd08459a3a9d5c c43ef049732fe4fd a6d1b868077ce374 9b82d2317cf57138"),
    ),
    (
        "a" * 256,  # hidden passwords stop at 128 bytes
        "mySuperRADIUSSecret!",
        AUTH1,
        h(
            "2cdf4ccd64ede3bf 690ee7607ea1864a bf82c2d815026311 1c00730df1b3b693"
            "8354cf942bfc8a9d ca57d85b7c8bdb2a 01650d748054d74a 0a9560c54d762a5e"
            "370b87c260899046 0466618e7ec6554f 9473b9e2fe9ff662 609df5f337c0fa74"
            "5c0a215d944d302a 03e3b969d91fe3f8 09204ec30ab989ef 7c498cf52438932a"
        ),
    ),
]

# Captured Access-Rejects (TestRADIUSResponseAuthenticator, TestRADIUSPacket) and an Access-Request.
REJECT_1 = h(
    "0376003389f1d6e2 bbfd5337166490e2 3820cd26121f7261 6469757331 2d342e7477642e636f7270 2e676f6f676c652e 636f6d"
)
REJECT_2 = h(
    "03760033d42cbecd b1871f0d476162ae 35bdd39e121f7261 6469757331 2d342e7477642e636f7270 2e676f6f676c652e 636f6d"
)
REJECT_3 = h(
    "037600331235f4f2 b8dc32da0d6a3f3d edbd7895121f7261 6469757331 2d342e7477642e636f7270 2e676f6f676c652e 636f6d"
)
REQUEST = h(
    "01130065075a3daa e367b4b03bdb03cf b1110ca7200e7261 6469757370726f62"
    "6572010f72616469 75732d70726f6265 72022285 71b24f7e81 54595a1258b07193"
    "b736c9dd652f6f07 87e9ce348bc4eff6 19fd0406ac170008 0506000000 2a0606"
    "00000001"
)


@pytest.mark.parametrize(("password", "secret", "authenticator", "want"), PASSWORD_TESTS)
def test_radius_password(password, secret, authenticator, want):
    assert rp.hide_password(password.encode(), secret.encode(), authenticator) == want


@pytest.mark.parametrize(("packet", "authenticator"), [(REJECT_1, AUTH1), (REJECT_2, AUTH2)])
def test_radius_response_authenticator(packet, authenticator):
    decoded = rp.decode(packet)
    assert rp.response_authenticator(decoded, authenticator, b"mySuperRADIUSSecret!") == decoded.authenticator
    assert rp.response_authenticator(decoded, authenticator, b"wrong secret") != decoded.authenticator


def test_radius_packet_decode():
    request = rp.decode(REQUEST)
    assert (request.code, request.identifier, request.length) == (1, 0x13, 0x65)
    assert request.authenticator == bytes.fromhex("075a3daae367b4b03bdb03cfb1110ca7")
    assert request.attributes == [
        (0x20, b"radiusprober"),
        (0x01, b"radius-prober"),
        (0x02, bytes.fromhex("8571b24f7e8154595a1258b07193b736c9dd652f6f0787e9ce348bc4eff619fd")),
        (0x04, bytes([0xAC, 0x17, 0x00, 0x08])),
        (0x05, bytes([0, 0, 0, 0x2A])),
        (0x06, bytes([0, 0, 0, 1])),
    ]
    assert request.encode() == REQUEST
    reject = rp.decode(REJECT_3)
    assert (reject.code, reject.identifier, reject.length) == (3, 0x76, 0x33)
    assert reject.authenticator == bytes.fromhex("1235f4f2b8dc32da0d6a3f3dedbd7895")
    assert reject.attributes == [(0x12, b"radius1-4.twd.corp.google.com")]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x01\x02", "shorter than a RADIUS header"),
        (b"\x01\x02\x00\x10" + bytes(16), "invalid length 16"),
        (b"\x01\x02\x00\x30" + bytes(16), "invalid length 48 for a 20-byte datagram"),
        (b"\x01\x02\x00\x17" + bytes(16) + b"\x01\x01\x00", "invalid attribute length 1"),
    ],
)
def test_radius_decode_rejects_junk(data, error):
    with pytest.raises(rp.PacketError, match=error):
        rp.decode(data)


def test_radius_config_parsing():
    assert parse_send("user:pass:sec:ret") == ("user", "pass", "sec:ret")
    with pytest.raises(ValueError, match="username:password:secret"):
        parse_send("user:pass")
    assert parse_receive("") == "accept"
    assert parse_receive("Reject") == "reject"
    with pytest.raises(ValueError, match="accept, reject, challenge, any"):
        parse_receive("maybe")


class RadiusServer:
    """Checks the request like a NAS would be checked, answers per user: alice accept, bob reject, carol challenge."""

    def __init__(self, ip, secret=b"s3cret", reply_secret=None, mangle_id=False):
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.secret, self.reply_secret, self.mangle_id = secret, reply_secret or secret, mangle_id
        self.requests = []
        self.closing = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closing:
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            request = rp.decode(data)
            self.requests.append(request)
            user = request.attribute(rp.USER_NAME).decode()
            hidden = request.attribute(rp.USER_PASSWORD)
            password_ok = hidden == rp.hide_password(b"pw", self.secret, request.authenticator)
            code = {"alice": rp.ACCESS_ACCEPT, "bob": rp.ACCESS_REJECT, "carol": rp.ACCESS_CHALLENGE}[user]
            if not password_ok:
                code = rp.ACCESS_REJECT
            ident = (request.identifier + 1) % 256 if self.mangle_id else request.identifier
            reply = rp.Packet(code, ident, bytes(16), [(18, b"hello")])
            reply.authenticator = rp.response_authenticator(reply, request.authenticator, self.reply_secret)
            self.sock.sendto(reply.encode(), addr)

    def close(self):
        self.closing = True
        self.thread.join()
        self.sock.close()


def radius_check(ip, port, user, response="accept", password="pw", secret="s3cret"):
    return asyncio.run(run_check(RADIUSChecker(ip, port, user, password, secret, response), 1.0))


@pytest.mark.parametrize(
    ("user", "response", "expected"),
    [
        ("alice", "accept", True),
        ("alice", "reject", False),
        ("bob", "reject", True),
        ("bob", "accept", False),
        ("carol", "challenge", True),
        ("carol", "any", True),
        ("bob", "any", True),
    ],
)
def test_radius_exchange(loopback, user, response, expected):
    srv = RadiusServer(loopback)
    try:
        result = radius_check(loopback, srv.port, user, response)
    finally:
        srv.close()
    assert result.ok is expected, result


def test_radius_request_attributes(loopback):
    srv = RadiusServer(loopback)
    try:
        result = radius_check(loopback, srv.port, "alice")
    finally:
        srv.close()
    assert result.ok and result.message.endswith("got Access-Accept")
    request = srv.requests[0]
    assert request.code == rp.ACCESS_REQUEST
    assert request.attribute(rp.NAS_IDENTIFIER) == socket.gethostname().encode()
    assert request.attribute(rp.NAS_PORT_TYPE) == struct.pack("!I", 5)
    assert request.attribute(rp.SERVICE_TYPE) == struct.pack("!I", 1)
    if ":" in loopback:
        assert request.attribute(rp.NAS_IP_ADDRESS) is None
    else:
        assert request.attribute(rp.NAS_IP_ADDRESS) == socket.inet_aton("127.0.0.1")


def test_radius_wrong_secret_and_identifier(loopback):
    srv = RadiusServer(loopback, reply_secret=b"other")
    try:
        bad_secret = radius_check(loopback, srv.port, "alice")
    finally:
        srv.close()
    assert not bad_secret.ok and "response authenticator mismatch (is the shared secret right?)" in bad_secret.message
    srv = RadiusServer(loopback, mangle_id=True)
    try:
        bad_id = radius_check(loopback, srv.port, "alice")
    finally:
        srv.close()
    assert not bad_id.ok and "does not match request" in bad_id.message
    wrong_password = RadiusServer(loopback)
    try:
        rejected = radius_check(loopback, wrong_password.port, "alice", password="nope")
    finally:
        wrong_password.close()
    assert not rejected.ok and rejected.message.endswith("got Access-Reject, expected Access-Accept")
