"""DNS checker against a tiny dnspython responder on loopback."""

import asyncio
import socket
import threading

import dns.message
import dns.rcode
import dns.rrset
import pytest

from seesaw.healthcheck.checkers import run_check
from seesaw.healthcheck.checkers.dns import DNSChecker, expected_answer, query_type

ZONE = {
    ("www.example.com.", "A"): ["192.0.2.10"],
    ("www.example.com.", "AAAA"): ["2001:db8::10"],
    ("alias.example.com.", "CNAME"): ["www.example.com."],
    ("txt.example.com.", "TXT"): ['"hello world"'],
    ("example.com.", "MX"): ["10 mail.example.com.", "20 backup.example.com."],
    ("example.com.", "NS"): ["ns1.example.com."],
    ("_http._tcp.example.com.", "SRV"): ["0 5 80 www.example.com."],
    ("10.2.0.192.in-addr.arpa.", "PTR"): ["www.example.com."],
}


class Responder:
    """Answers from ZONE, follows one CNAME for A/AAAA, NXDOMAIN otherwise; "garbage." gets junk."""

    def __init__(self, ip):
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closing:
            try:
                wire, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            q = query.question[0]
            name, kind = q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)
            if name == "garbage.":
                self.sock.sendto(b"\x00\x01not dns", addr)
                continue
            reply = dns.message.make_response(query)
            if (name, kind) in ZONE:
                reply.answer.append(dns.rrset.from_text(name, 60, "IN", kind, *ZONE[name, kind]))
            elif (name, "CNAME") in ZONE:
                target = ZONE[name, "CNAME"][0]
                reply.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", target))
                if (target, kind) in ZONE:
                    reply.answer.append(dns.rrset.from_text(target, 60, "IN", kind, *ZONE[target, kind]))
            elif not any(n == name for n, _ in ZONE):
                reply.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(reply.to_wire(), addr)

    def close(self):
        self.closing = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def responder(loopback):
    r = Responder(loopback)
    yield r
    r.close()


def check(ip, port, name, kind, receive="", timeout=1.0):
    return asyncio.run(run_check(DNSChecker(ip, port, name, kind, receive), timeout))


@pytest.mark.parametrize(
    ("name", "kind", "receive", "expected"),
    [
        ("www.example.com", "A", "192.0.2.10", True),
        ("www.example.com", "a", "192.0.2.10", True),
        ("WWW.Example.COM.", "A", "192.0.2.10", True),
        ("www.example.com", "A", "192.0.2.11", False),
        ("www.example.com", "A", "", True),
        ("www.example.com", "AAAA", "2001:db8::10", True),
        ("www.example.com", "AAAA", "2001:0db8:0:0::10", True),
        ("www.example.com", "AAAA", "2001:db8::11", False),
        ("alias.example.com", "CNAME", "www.example.com", True),
        ("alias.example.com", "CNAME", "www.example.com.", True),
        ("alias.example.com", "CNAME", "other.example.com", False),
        ("alias.example.com", "A", "192.0.2.10", True),
        ("txt.example.com", "TXT", "hello world", True),
        ("txt.example.com", "TXT", '"hello world"', True),
        ("txt.example.com", "TXT", "goodbye", False),
        ("example.com", "MX", "10 mail.example.com", True),
        ("example.com", "MX", "20 BACKUP.example.com.", True),
        ("example.com", "MX", "30 mail.example.com", False),
        ("example.com", "NS", "ns1.example.com", True),
        ("_http._tcp.example.com", "SRV", "0 5 80 www.example.com", True),
        ("10.2.0.192.in-addr.arpa", "PTR", "www.example.com", True),
        ("example.com", "A", "", False),
        ("missing.example.com", "A", "192.0.2.10", False),
    ],
)
def test_dns_answers(responder, loopback, name, kind, receive, expected):
    result = check(loopback, responder.port, name, kind, receive)
    assert result.ok is expected, result


def test_dns_messages(responder, loopback):
    where = f"DNS www.example.com. IN A query to {'[::1]' if ':' in loopback else loopback}:{responder.port}"
    assert check(loopback, responder.port, "www.example.com", "A", "192.0.2.10").message == (
        f"{where}: answer 192.0.2.10"
    )
    assert check(loopback, responder.port, "www.example.com", "A", "192.0.2.99").message == (
        f"{where}: answer 192.0.2.10, expected 192.0.2.99"
    )
    nx = check(loopback, responder.port, "missing.example.com", "A", "192.0.2.10")
    assert nx.message.endswith(": NXDOMAIN")
    none = check(loopback, responder.port, "example.com", "A")
    assert none.message.endswith(": no A answer")
    junk = check(loopback, responder.port, "garbage", "A")
    assert not junk.ok and "reply is not a DNS message" in junk.message


def test_dns_no_server(loopback):
    with socket.socket(socket.AF_INET6 if ":" in loopback else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((loopback, 0))
        port = s.getsockname()[1]
    result = check(loopback, port, "www.example.com", "A", "192.0.2.10")
    assert not result.ok and "port unreachable" in result.message


@pytest.mark.parametrize(
    ("method", "receive", "error"),
    [
        ("", "", "needs `method` set to the query type"),
        ("BOGUS", "", "is not a DNS query type"),
        ("A", "not-an-ip", "is not an IPv4 address"),
        ("A", "2001:db8::1", "is not an IPv4 address"),
        ("AAAA", "192.0.2.1", "is not an IPv6 address"),
        ("MX", "mail.example.com", "is not valid record data"),
    ],
)
def test_dns_config_errors(method, receive, error):
    with pytest.raises(ValueError, match=error.replace("`", ".")):
        expected_answer(query_type(method), receive)
