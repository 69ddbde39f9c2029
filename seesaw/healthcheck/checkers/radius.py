"""RADIUS check: an Access-Request, and a genuine answer of the wanted kind.

`send` is `username:password:secret` (the secret may itself contain colons);
`receive` is what must come back: `accept` (default), `reject`, `challenge`
or `any`. The request carries NAS-Identifier (host name), User-Name,
User-Password (hidden), NAS-IP-Address (the probe's own IPv4 source),
NAS-Port-Type Virtual and Service-Type Login. A reply counts only if its
identifier matches and its Response Authenticator proves the shared secret.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
import struct
from dataclasses import dataclass

from . import dial
from . import radius_packet as rp
from .base import CheckFailed

WANTED = {"accept": rp.ACCESS_ACCEPT, "reject": rp.ACCESS_REJECT, "challenge": rp.ACCESS_CHALLENGE, "any": None}


def parse_send(send: str) -> tuple[str, str, str]:
    """(username, password, secret); ValueError says the expected shape."""
    parts = send.split(":", 2)
    if len(parts) != 3:
        raise ValueError("RADIUS check `send` must be username:password:secret")
    return parts[0], parts[1], parts[2]


def parse_receive(receive: str) -> str:
    wanted = (receive or "accept").lower()
    if wanted not in WANTED:
        raise ValueError(f"RADIUS check `receive` {receive!r} must be one of accept, reject, challenge, any")
    return wanted


@dataclass(slots=True)
class RADIUSChecker:
    ip: str
    port: int
    username: str
    password: str
    secret: str
    response: str = "accept"
    mark: int = 0

    def describe(self) -> str:
        return f"RADIUS Access-Request to {dial.host_port(self.ip, self.port)}"

    def build_request(self, identifier: int, authenticator: bytes, nas_ip: str | None) -> rp.Packet:
        attributes = [
            (rp.NAS_IDENTIFIER, socket.gethostname().encode()),
            (rp.USER_NAME, self.username.encode()),
            (rp.USER_PASSWORD, rp.hide_password(self.password.encode(), self.secret.encode(), authenticator)),
        ]
        if nas_ip is not None and ipaddress.ip_address(nas_ip).version == 4:
            attributes.append((rp.NAS_IP_ADDRESS, ipaddress.IPv4Address(nas_ip).packed))
        attributes.append((rp.NAS_PORT_TYPE, struct.pack("!I", rp.PORT_TYPE_VIRTUAL)))
        attributes.append((rp.SERVICE_TYPE, struct.pack("!I", rp.SERVICE_LOGIN)))
        return rp.Packet(rp.ACCESS_REQUEST, identifier, authenticator, attributes)

    async def check(self) -> str:
        where = self.describe()
        identifier = secrets.randbelow(256)
        authenticator = secrets.token_bytes(16)
        sock = dial.connect_udp(self.ip, self.port, self.mark)
        try:
            request = self.build_request(identifier, authenticator, sock.getsockname()[0])
            await dial.send_datagram(sock, request.encode())
            try:
                data = await asyncio.get_running_loop().sock_recv(sock, rp.MAX_SIZE)
            except ConnectionRefusedError:
                raise CheckFailed(f"{where}: port unreachable (ICMP), no RADIUS server there") from None
        finally:
            dial.close(sock)
        try:
            reply = rp.decode(data)
        except rp.PacketError as err:
            raise CheckFailed(f"{where}: reply is not a RADIUS packet: {err}") from None
        if reply.identifier != identifier:
            raise CheckFailed(f"{where}: reply identifier {reply.identifier} does not match request {identifier}")
        if reply.authenticator != rp.response_authenticator(reply, authenticator, self.secret.encode()):
            raise CheckFailed(f"{where}: response authenticator mismatch (is the shared secret right?)")
        got = rp.code_name(reply.code)
        wanted = WANTED[self.response]
        if wanted is None or reply.code == wanted:
            return f"{where}: got {got}"
        want_name = rp.code_name(wanted)
        if reply.code not in (rp.ACCESS_ACCEPT, rp.ACCESS_REJECT, rp.ACCESS_CHALLENGE):
            raise CheckFailed(f"{where}: got unexpected RADIUS {got}, expected {want_name}")
        raise CheckFailed(f"{where}: got {got}, expected {want_name}")
