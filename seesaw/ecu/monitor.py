"""The monitoring HTTP endpoint: `/metrics` (Prometheus) and `/healthz`.

Every scrape reads the engine's live state: what `/metrics` shows is never
older than the scrape itself (Seesaw's CLI and stats were up to 15 s stale).
Between scrapes a sampler thread looks at the checks' latest results every
`sample_interval` seconds, for the result counters and latency histograms
(`check_history`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from . import metrics
from .check_history import CheckHistory
from .engine_client import EngineReader, EngineUnavailable

DEFAULT_SAMPLE_INTERVAL = 5.0

log = logging.getLogger(__name__)


class EngineCollector:
    """A prometheus_client collector that reads the engine on each collect()."""

    def __init__(self, reader: EngineReader) -> None:
        self.reader = reader
        self.last_error = ""
        self.history = CheckHistory()
        self._lock = threading.Lock()  # scrapes and the sampler share the history

    def collect(self) -> Iterator[Metric]:
        try:
            snap = self.reader.snapshot()
            self.last_error = ""
        except EngineUnavailable as err:
            self.last_error = str(err)
            snap = None
        with self._lock:
            if snap is not None:
                self.history.observe(snap.vservers)
            history = list(self.history.families())
        yield from metrics.families(snap)
        yield from history

    def sample(self) -> None:
        """Look at the checks' latest results between scrapes."""
        try:
            vservers = self.reader.vservers(counters=False)  # results only: NCC is not asked to read
        except EngineUnavailable:
            return
        with self._lock:
            self.history.observe(vservers)


def health(reader: EngineReader) -> tuple[HTTPStatus, str]:
    """`/healthz`: 200 when the engine answers and has a config, else 503 and why."""
    try:
        config = reader.config()
    except EngineUnavailable as err:
        return HTTPStatus.SERVICE_UNAVAILABLE, f"engine unavailable: {err}\n"
    if config.generation == 0:
        reason = config.last_error or "no cluster config loaded"
        return HTTPStatus.SERVICE_UNAVAILABLE, f"engine has no config: {reason}\n"
    return HTTPStatus.OK, "ok\n"


class MonitorServer:
    def __init__(
        self, address: str, port: int, reader: EngineReader, sample_interval: float = DEFAULT_SAMPLE_INTERVAL
    ) -> None:
        self.reader = reader
        self.collector = EngineCollector(reader)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)  # type: ignore[arg-type]
        self.sample_interval = sample_interval
        self._stopping = threading.Event()
        monitor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body = generate_latest(monitor.registry)
                    self._reply(HTTPStatus.OK, body, CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    status, text = health(monitor.reader)
                    self._reply(status, text.encode(), "text/plain; charset=utf-8")
                else:
                    self._reply(HTTPStatus.NOT_FOUND, b"not found: try /metrics or /healthz\n", "text/plain")

            def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("%s " + format, self.client_address[0], *args)

        self.httpd = ThreadingHTTPServer((address, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="monitor", daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()
        if self.sample_interval > 0:
            threading.Thread(target=self._sample_loop, name="check-sampler", daemon=True).start()
        log.info("monitoring on http://%s:%d/metrics", self.httpd.server_address[0], self.port)

    def _sample_loop(self) -> None:
        while not self._stopping.wait(self.sample_interval):
            self.collector.sample()

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
