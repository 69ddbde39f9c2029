"""Fixtures for the healthcheck tests: loopback addresses and real servers (see hc_servers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hc_servers import (
    LOOPBACKS,
    HTTPServerHandle,
    TCPEchoServer,
    UDPEchoServer,
    make_tls_files,
    server_tls_context,
)


@pytest.fixture(params=LOOPBACKS, ids=lambda ip: "v6" if ":" in ip else "v4")
def loopback(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, 127.0.0.1 and ::1 (cert, key)."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def http_server(loopback) -> Iterator[HTTPServerHandle]:
    srv = HTTPServerHandle(loopback)
    yield srv
    srv.close()


@pytest.fixture
def https_server(loopback, tls_files) -> Iterator[HTTPServerHandle]:
    srv = HTTPServerHandle(loopback, server_tls_context(tls_files))
    yield srv
    srv.close()


@pytest.fixture
def tcp_echo(loopback) -> Iterator[TCPEchoServer]:
    srv = TCPEchoServer(loopback)
    yield srv
    srv.close()


@pytest.fixture
def udp_echo(loopback) -> Iterator[UDPEchoServer]:
    srv = UDPEchoServer(loopback)
    yield srv
    srv.close()
