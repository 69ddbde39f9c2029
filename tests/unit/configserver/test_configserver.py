"""seesaw-config-server: the directory store, the HTTPS answers, and the command."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesaw.configserver import BadConfig, ConfigHTTPServer, ConfigStore, NotFound, server_context
from seesaw.lab.certs import TestCA
from seesaw.pb import config_pb2

CLUSTER = """\
seesaw_vip < fqdn: "seesaw-vip.example.com." ipv4: "10.0.0.1/24" status: PRODUCTION >
node < fqdn: "seesaw1-1.example.com." ipv4: "10.0.0.2/24" status: PRODUCTION >
vserver <
  name: "web@au-syd"
  rp: "ops"
  entry_address < fqdn: "web.example.com." ipv4: "10.0.0.10/24" status: PRODUCTION >
  vserver_entry < protocol: TCP port: 80 healthcheck < type: TCP port: 80 > >
  backend < host < fqdn: "be1.example.com." ipv4: "10.2.0.1/24" status: PRODUCTION > >
>
"""


def decode(body: bytes) -> config_pb2.Cluster:
    message = config_pb2.Cluster()
    message.ParseFromString(body)
    return message


def test_the_store_serves_checked_configs_and_fills_last_updated(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path)
    path = tmp_path / "au-syd.pb"
    path.write_text(CLUSTER)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    served = decode(store.get("au-syd"))
    assert [v.name for v in served.vserver] == ["web@au-syd"]
    assert served.metadata.last_updated == 1_700_000_000
    assert store.clusters() == ["au-syd"]

    path.write_text(CLUSTER + "metadata < last_updated: 42 >\n")  # re-read when the file changes
    assert decode(store.get("au-syd")).metadata.last_updated == 42

    path.write_text(CLUSTER.replace("port: 80 healthcheck", "port: 0 healthcheck"))
    with pytest.raises(BadConfig) as err:
        store.get("au-syd")
    assert f"{path}:7:" in str(err.value) and "port" in str(err.value)

    with pytest.raises(NotFound, match="no config for cluster 'us-nyc'"):
        store.get("us-nyc")
    for bad in ("../etc/passwd", "..", ".hidden", "a/b", ""):
        with pytest.raises(NotFound):
            store.get(bad)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext, Path]]:
    ca = TestCA()
    leaf = ca.write_leaf(tmp_path / "server", "localhost", dns=["localhost"], ips=["127.0.0.1"])
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "au-syd.pb").write_text(CLUSTER)
    server = ConfigHTTPServer(("127.0.0.1", 0), ConfigStore(configs), server_context(leaf.cert, leaf.key))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = ssl.create_default_context(cafile=str(ca.write(tmp_path / "ca.crt")))
    try:
        yield server.server_address[1], client, configs
    finally:
        server.shutdown()
        server.server_close()


def request(port: int, context: ssl.SSLContext, method: str, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def test_get_config_answers_the_way_the_fetcher_expects(served: tuple[int, ssl.SSLContext, Path]) -> None:
    port, context, configs = served
    status, content_type, body = request(port, context, "GET", "/config/au-syd")
    assert (status, content_type) == (200, "application/x-protobuffer")
    assert decode(body).vserver[0].name == "web@au-syd"

    assert request(port, context, "GET", "/config/nope")[0] == 404
    assert request(port, context, "GET", "/other")[0] == 404
    assert request(port, context, "GET", "/config/au-syd/x")[0] == 404
    status, content_type, body = request(port, context, "POST", "/config/au-syd")
    assert status == 405 and content_type.startswith("text/plain")

    (configs / "au-syd.pb").write_text("vserver < name: broken")
    status, _, body = request(port, context, "GET", "/config/au-syd")
    assert status == 503 and b"does not check" in body


def test_a_client_that_does_not_trust_the_server_is_cut_off_and_the_server_lives_on(
    served: tuple[int, ssl.SSLContext, Path], tmp_path: Path
) -> None:
    port, context, _ = served
    stranger = ssl.create_default_context(cafile=str(TestCA("other").write(tmp_path / "other.crt")))
    with pytest.raises(ssl.SSLCertVerificationError):
        request(port, stranger, "GET", "/config/au-syd")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:  # clear text to a TLS port
        raw.sendall(b"GET /config/au-syd HTTP/1.1\r\n\r\n")
        raw.recv(100)
    assert request(port, context, "GET", "/config/au-syd")[0] == 200


def test_the_command_serves_until_sigterm(tmp_path: Path) -> None:
    ca = TestCA()
    leaf = ca.write_leaf(tmp_path / "server", "localhost", ips=["127.0.0.1"])
    (tmp_path / "au-syd.pb").write_text(CLUSTER)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "seesaw.configserver", "--dir", str(tmp_path), "--cert", str(leaf.cert),
           "--key", str(leaf.key), "--listen", "127.0.0.1", "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        context = ssl.create_default_context(cafile=str(ca.write(tmp_path / "ca.crt")))
        deadline = time.monotonic() + 10
        while True:
            try:
                assert request(port, context, "GET", "/config/au-syd")[0] == 200
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "clusters: au-syd" in (proc.stderr.read() if proc.stderr else "")


def test_the_command_says_what_is_wrong(tmp_path: Path) -> None:
    missing = [
        sys.executable,
        "-m",
        "seesaw.configserver",
        "--dir",
        str(tmp_path / "nope"),
        "--cert",
        "c",
        "--key",
        "k",
    ]
    result = subprocess.run(missing, capture_output=True, text=True, timeout=20)
    assert result.returncode != 0 and "is not a directory" in result.stderr
    bad_cert = [sys.executable, "-m", "seesaw.configserver", "--dir", str(tmp_path), "--cert", "c.pem", "--key", "k"]
    result = subprocess.run(bad_cert, capture_output=True, text=True, timeout=20)
    assert result.returncode != 0 and "cannot load --cert c.pem" in result.stderr
