"""DNS check: one UDP query (recursion desired, class IN) and its answer.

`method` is the query type (A, AAAA, CNAME, TXT, MX, NS, PTR, SRV, SOA...),
`send` the name. The answer is found by following any CNAME chain in the
answer section. With `receive` empty any answer of that type passes;
otherwise one answer's data must equal `receive`: addresses compare as
addresses, other types as record data ("10 mail.example.com" for MX, the
text for TXT), names case-insensitively with or without the final dot.
NXDOMAIN and every other non-NOERROR rcode fail.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.txtbase import TXTBase

from . import dial
from .base import CheckFailed

MAX_DATAGRAM = 65535


def query_type(method: str) -> dns.rdatatype.RdataType:
    """The query type named by `method`; ValueError says what is accepted."""
    if not method:
        raise ValueError("DNS check needs `method` set to the query type (A, AAAA, CNAME, TXT, MX, NS, PTR, SRV...)")
    try:
        return dns.rdatatype.from_text(method.upper())
    except dns.rdatatype.UnknownRdatatype:
        raise ValueError(
            f"DNS check `method` {method!r} is not a DNS query type (A, AAAA, CNAME, TXT, MX...)"
        ) from None


def query_name(text: str) -> dns.name.Name:
    """The name to ask about (always absolute); ValueError when it is not a DNS name."""
    if not text:
        raise ValueError("DNS check needs `send` set to the name to query")
    try:
        return dns.name.from_text(text)
    except dns.exception.DNSException as err:
        raise ValueError(f"DNS check `send` {text!r} is not a DNS name: {err}") from None


def expected_answer(rdtype: dns.rdatatype.RdataType, receive: str) -> dns.rdata.Rdata | None:
    """`receive` as record data of `rdtype` (None when empty); ValueError when it cannot be."""
    if not receive:
        return None
    if rdtype == dns.rdatatype.A and not _is_ip(receive, 4):
        raise ValueError(f"DNS A check `receive` {receive!r} is not an IPv4 address")
    if rdtype == dns.rdatatype.AAAA and not _is_ip(receive, 6):
        raise ValueError(f"DNS AAAA check `receive` {receive!r} is not an IPv6 address")
    try:
        return dns.rdata.from_text(dns.rdataclass.IN, rdtype, receive, origin=dns.name.root, relativize=False)
    except (dns.exception.DNSException, ValueError) as err:
        if rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
            return None  # compared as plain text below
        raise ValueError(f"DNS {rdtype.name} check `receive` {receive!r} is not valid record data: {err}") from None


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _matches(rdata: dns.rdata.Rdata, want: dns.rdata.Rdata | None, receive: str) -> bool:
    if want is not None and rdata == want:
        return True
    if isinstance(rdata, TXTBase):
        return b"".join(rdata.strings).decode("utf-8", "replace") == receive
    return rdata.to_text() == receive


@dataclass(slots=True)
class DNSChecker:
    ip: str
    port: int
    qname: str
    qtype: str
    receive: str = ""
    mark: int = 0

    def describe(self) -> str:
        name = self.qname if self.qname.endswith(".") else self.qname + "."
        return f"DNS {name} IN {self.qtype.upper()} query to {dial.host_port(self.ip, self.port)}"

    async def check(self) -> str:
        where = self.describe()
        rdtype = query_type(self.qtype)
        want = expected_answer(rdtype, self.receive)
        query = dns.message.make_query(query_name(self.qname), rdtype, dns.rdataclass.IN)
        reply = await self._exchange(query, where)
        rcode = reply.rcode()
        if rcode != dns.rcode.NOERROR:
            raise CheckFailed(f"{where}: {dns.rcode.to_text(rcode)}")
        try:
            answer = reply.resolve_chaining().answer
        except dns.exception.DNSException as err:
            raise CheckFailed(f"{where}: unusable answer: {err}") from None
        if answer is None or len(answer) == 0:
            raise CheckFailed(f"{where}: no {rdtype.name} answer")
        texts = [rd.to_text() for rd in answer]
        if not self.receive:
            return f"{where}: answer {', '.join(texts[:4])}"
        for rdata in answer:
            if _matches(rdata, want, self.receive):
                return f"{where}: answer {rdata.to_text()}"
        shown = ", ".join(texts[:4]) + (", ..." if len(texts) > 4 else "")
        raise CheckFailed(f"{where}: answer {shown}, expected {self.receive}")

    async def _exchange(self, query: dns.message.Message, where: str) -> dns.message.Message:
        loop = asyncio.get_running_loop()
        sock = dial.connect_udp(self.ip, self.port, self.mark)
        try:
            await dial.send_datagram(sock, query.to_wire())
            while True:  # skip stray datagrams; the run's timeout bounds the wait
                try:
                    wire = await loop.sock_recv(sock, MAX_DATAGRAM)
                except ConnectionRefusedError:
                    raise CheckFailed(f"{where}: port unreachable (ICMP), no DNS server there") from None
                try:
                    reply = dns.message.from_wire(wire)
                except dns.exception.DNSException as err:
                    raise CheckFailed(f"{where}: reply is not a DNS message: {err}") from None
                if query.is_response(reply):
                    return reply
        finally:
            dial.close(sock)
