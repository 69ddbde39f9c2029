"""A lab backend's servers (seesaw.lab.backend, a real process on loopback) and the client side that asks them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import dns.message
import dns.query
import pytest

from seesaw.lab import backend, traffic


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def servers():
    http, dns_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    cmd = [sys.executable, "-m", "seesaw.lab.backend", "be7", "10.99.1.17", f"--http={http}", f"--dns={dns_port}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert "be7" in proc.stdout.readline()  # printed once every server listens
    yield http, dns_port
    proc.terminate()
    assert proc.wait(timeout=10) == 0  # SIGTERM is a clean stop


def test_http_answers_its_name_on_every_path(servers):
    http, _ = servers
    assert traffic.http_get("127.0.0.1", http) == "be7"
    assert traffic.http_get("127.0.0.1", http, path="/healthz") == "be7"


def test_dns_answers_txt_with_its_name_and_a_with_its_address(servers):
    _, port = servers
    assert traffic.dns_txt("127.0.0.1", port) == "be7"
    answer = dns.query.udp(dns.message.make_query("check.lab.seesaw.", "A"), "127.0.0.1", 1.0, port)
    assert [r.to_text() for rrset in answer.answer for r in rrset] == ["10.99.1.17"]


def test_dns_answer_ignores_what_is_not_a_query():
    assert backend.dns_answer(b"\x00\x01garbage", "be7", "10.99.1.17") is None


def test_failures_are_oserrors_with_the_reason():
    with pytest.raises(OSError):
        traffic.http_get("127.0.0.1", free_port(socket.SOCK_STREAM), timeout=0.5)
    with pytest.raises(OSError, match="timed out"):
        traffic.dns_txt("127.0.0.1", free_port(socket.SOCK_DGRAM), timeout=0.2)


def test_tally_counts_backends_and_failures():
    answers = iter(["be1", "be2", OSError("refused"), "be1"])

    def request() -> str:
        answer = next(answers)
        if isinstance(answer, OSError):
            raise answer
        return answer

    result = traffic.tally(request, 4)
    assert (dict(result.backends), result.failures, result.total) == ({"be1": 2, "be2": 1}, ["refused"], 4)
    assert result.lines()[0].split() == ["be1", "2", "50.0%"]
    assert "1 x refused" in result.lines()[-1]


def test_load_keeps_every_outcome_with_its_time(servers):
    http, _ = servers
    dead = free_port(socket.SOCK_STREAM)
    target = {"port": http}
    with traffic.Load(lambda: traffic.http_get("127.0.0.1", target["port"], 0.5), pace=0.005) as load:
        load.wait_requests(5)
        switched = time.monotonic()
        target["port"] = dead
        load.wait_requests(5)
    before = [o for o in load.outcomes() if o.end < switched]
    after = load.outcomes(since=switched)
    assert len(before) >= 5 and {o.backend for o in before} == {"be7"}
    assert len(after) >= 4 and after == load.failures(since=switched)
    assert all(o.error and o.start <= o.end for o in after)
