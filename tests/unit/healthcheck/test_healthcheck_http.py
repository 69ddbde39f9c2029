"""HTTP and HTTPS checkers against real loopback servers (Seesaw's TestHTTPChecker/TestHTTPCheckerSecure)."""

import asyncio
import socket
import threading

import pytest

from seesaw.healthcheck.checkers import run_check
from seesaw.healthcheck.checkers.http import HTTPChecker
from seesaw.healthcheck.checkers.http_client import MAX_HEADER_BYTES

TIMEOUT = 1.0

# (method, path, body prefix, code, expected) - Seesaw's httpTests; code 0 accepts any status
HTTP_TESTS = [
    ("GET", "/", "", 0, True),
    ("GET", "/", "", 200, True),
    ("GET", "/", "", 404, False),
    ("GET", "/healthz", "", 0, True),
    ("GET", "/healthz", "", 200, True),
    ("GET", "/healthz", "ok\n", 200, True),
    ("GET", "/healthz", "notok", 200, False),
    ("GET", "/healthz", "ok\n", 503, False),
    ("GET", "/notfound", "", 0, True),
    ("GET", "/notfound", "", 200, False),
    ("GET", "/notfound", "", 404, True),
    ("HEAD", "/healthz", "", 0, True),
    ("HEAD", "/healthz", "", 200, True),
    ("HEAD", "/notfound", "", 0, True),
    ("HEAD", "/notfound", "", 200, False),
    ("HEAD", "/notfound", "", 404, True),
]


def check(checker, timeout=TIMEOUT):
    return asyncio.run(run_check(checker, timeout))


def http_checker(srv, secure=False, **kw):
    return HTTPChecker(srv.ip, srv.port, secure=secure, tls_verify=False, **kw)


@pytest.mark.parametrize(("method", "path", "receive", "code", "expected"), HTTP_TESTS)
@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_http_checker_table(request, loopback, secure, method, path, receive, code, expected):
    srv = request.getfixturevalue("https_server" if secure else "http_server")
    hc = http_checker(srv, secure, method=method, request=path, receive=receive.encode(), code=code)
    result = check(hc)
    assert result.ok is expected, result


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_http_wrong_scheme_fails(request, loopback, secure):
    srv = request.getfixturevalue("https_server" if secure else "http_server")
    result = check(http_checker(srv, not secure))
    assert not result.ok, result


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_http_closed_server_fails(request, loopback, secure):
    srv = request.getfixturevalue("https_server" if secure else "http_server")
    assert check(http_checker(srv, secure)).ok
    srv.close()
    result = check(http_checker(srv, secure))
    assert not result.ok
    assert "connection refused" in result.message


def test_http_messages(http_server):
    ip = f"[{http_server.ip}]" if ":" in http_server.ip else http_server.ip
    url = f"http://{ip}:{http_server.port}"
    assert check(http_checker(http_server, request="/healthz")).message == f"GET {url}/healthz: HTTP 200 OK"
    notfound = check(http_checker(http_server, request="/notfound"))
    assert notfound.message == f"GET {url}/notfound: HTTP 404, expected 200"
    body = check(http_checker(http_server, request="/healthz", receive=b"notok"))
    assert body.message == f"GET {url}/healthz: HTTP 200 body starts b'ok\\n', expected b'notok'"


def test_https_verify(https_server):
    result = check(HTTPChecker(https_server.ip, https_server.port, secure=True, tls_verify=True))
    assert not result.ok
    assert "certificate not trusted" in result.message


def test_host_header_default_and_override(http_server):
    ip = f"[{http_server.ip}]" if ":" in http_server.ip else http_server.ip
    assert check(http_checker(http_server, request="/host", receive=f"{ip}:{http_server.port}".encode())).ok
    named = check(http_checker(http_server, request="/host", receive=b"www.example.com", host_header="www.example.com"))
    assert named.ok, named
    assert http_server.seen[-1] == ("GET", "/host", "www.example.com")


def test_proxy_mode_sends_absolute_uri(http_server):
    hc = http_checker(http_server, request="http://backend.example/healthz", receive=b"ok", proxy=True)
    result = check(hc)
    assert result.ok, result
    assert http_server.seen[-1] == ("GET", "http://backend.example/healthz", "backend.example")


def test_redirects_are_not_followed(http_server):
    result = check(http_checker(http_server, request="/redirect"))
    assert not result.ok
    assert "HTTP 302, expected 200 (redirect to /healthz; redirects are not followed)" in result.message
    assert check(http_checker(http_server, request="/redirect", code=302)).ok
    assert [path for _, path, _ in http_server.seen] == ["/redirect", "/redirect"]


def test_chunked_body_is_decoded(http_server):
    assert check(http_checker(http_server, request="/chunked", receive=b"ok\nand")).ok
    assert not check(http_checker(http_server, request="/chunked", receive=b"ok\nand less")).ok


def test_endless_body_costs_one_bounded_read(http_server):
    result = check(http_checker(http_server, request="/endless", receive=b"ok\n"), timeout=5.0)
    assert result.ok, result
    assert result.latency < 1.0


def test_never_answering_server_times_out(http_server):
    result = check(http_checker(http_server, request="/hang"), timeout=0.3)
    assert not result.ok
    assert result.message.endswith("timed out after 0.3 s")


class RawServer:
    """Accepts one connection and answers it with fixed bytes (or endless bytes)."""

    def __init__(self, ip, reply=b"", endless=b""):
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET)
        self.sock.bind((ip, 0))
        self.sock.listen()
        self.ip, self.port = ip, self.sock.getsockname()[1]
        self.sent = 0
        self.thread = threading.Thread(target=self._serve, args=(reply, endless), daemon=True)
        self.thread.start()

    def _serve(self, reply, endless):
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(4096)
            try:
                conn.sendall(reply)
                while endless:
                    conn.sendall(endless)
                    self.sent += len(endless)
                    if self.sent > 512 * 1024 * 1024:
                        return
            except OSError:
                pass

    def close(self):
        self.thread.join(5)
        self.sock.close()


@pytest.mark.parametrize(
    ("reply", "endless", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", b"", "not an HTTP response: b'SSH-2.0-OpenSSH_9.2'"),
        (b"", b"", "connection closed without an HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", b"", "connection closed in the middle of the response headers"),
        (b"HTTP/1.1 200 OK\r\n", b"X-Junk: " + b"a" * 1000 + b"\r\n", f"larger than {MAX_HEADER_BYTES} bytes"),
        (b"HTTP/1.1 200 OK\r\nX: ", b"a" * 4096, "response header line longer than"),
    ],
    ids=["garbage", "empty", "truncated", "endless-headers", "endless-line"],
)
def test_bad_responses_fail_clearly(loopback, reply, endless, message):
    srv = RawServer(loopback, reply, endless)
    try:
        result = check(HTTPChecker(loopback, srv.port), timeout=3.0)
    finally:
        srv.close()
    assert not result.ok
    assert message in result.message, result.message
    # What the server got rid of is what the kernel's socket buffers took (a few MB on lo), not what we read.
    assert srv.sent < 32 * 1024 * 1024, "the checker must hang up long before the server stops sending"


def test_interim_responses_are_skipped(loopback):
    srv = RawServer(loopback, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    try:
        result = check(HTTPChecker(loopback, srv.port, code=204))
    finally:
        srv.close()
    assert result.ok, result
