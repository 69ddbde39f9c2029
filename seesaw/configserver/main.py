"""`seesaw-config-server`: serve cluster configs from a directory over HTTPS.

    seesaw-config-server --dir /srv/seesaw-config --cert server.crt --key server.key

Each `<dir>/<cluster>.pb` (protobuf text format, a node's cluster.pb) is
served at `https://<this host>:10255/config/<cluster>`, the address the
nodes' [config_server] primary/secondary/tertiary name. The nodes verify
the certificate against their [config_server] ca_cert, so it must name
this host as the nodes call it.
"""

from __future__ import annotations

import argparse
import signal
import ssl
import sys
import threading
from pathlib import Path
from types import FrameType

from seesaw.common import log as seesaw_log
from seesaw.configserver.http_server import ConfigHTTPServer, server_context
from seesaw.configserver.store import ConfigStore

DEFAULT_PORT = 10255


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seesaw-config-server", description="Serve Seesaw cluster configs (<dir>/<cluster>.pb) over HTTPS"
    )
    p.add_argument("--dir", type=Path, required=True, help="directory holding <cluster>.pb files (text format)")
    p.add_argument("--cert", type=Path, required=True, help="the server's certificate (PEM, with its chain)")
    p.add_argument("--key", type=Path, required=True, help="the server's private key (PEM)")
    p.add_argument("--listen", default="0.0.0.0", help="address to listen on (default: %(default)s; :: for IPv6)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s, as the nodes expect)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default: %(default)s)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    log = seesaw_log.setup("configserver", args.log_level)
    if not args.dir.is_dir():
        sys.exit(f"seesaw-config-server: {args.dir} is not a directory: pass --dir with the <cluster>.pb files")
    try:
        context = server_context(args.cert, args.key)
    except (OSError, ssl.SSLError) as err:
        sys.exit(f"seesaw-config-server: cannot load --cert {args.cert} / --key {args.key}: {err}")
    store = ConfigStore(args.dir)
    try:
        server = ConfigHTTPServer((args.listen, args.port), store, context)
    except OSError as err:
        sys.exit(f"seesaw-config-server: cannot listen on {args.listen} port {args.port}: {err.strerror}")

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    clusters = ", ".join(store.clusters()) or "none yet"
    log.info("serving %s on https://%s:%d/config/<cluster> (clusters: %s)", args.dir, args.listen, args.port, clusters)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    log.info("stopped")
