"""A lab backend's servers: `python -m seesaw.lab.backend NAME ADDRESS --http 80 --dns 53`.

* HTTP (each `--http PORT`): every path answers 200 with the body `NAME\\n`,
  so a client sees which backend served it (`/healthz` is what the checks ask).
* DNS (each `--dns PORT`, UDP): any query gets NOERROR with `A ADDRESS` and
  `TXT NAME` for the name asked.

Runs until SIGTERM/SIGINT. Binds 0.0.0.0, so it also answers on a DSR VIP
held on `lo`.
"""

from __future__ import annotations

import argparse
import signal
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

import dns.flags
import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def http_handler(name: str) -> type[BaseHTTPRequestHandler]:
    body = f"{name}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        server_version = f"seesaw-lab-{name}"

        def do_GET(self) -> None:  # http.server's name for it
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet: no line per request
            pass

    return Handler


IN_PKTINFO = struct.Struct("I4s4s")  # ifindex, local address, header destination address
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # <linux/in.h>; Python 3.11's socket module lacks it


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a client loop opens a connection per request


def dns_answer(query: bytes, name: str, address: str) -> bytes | None:
    """The wire answer to one DNS query (None if it is not one)."""
    try:
        request = dns.message.from_wire(query)
    except Exception:  # anything unparsable is dropped, as a resolver would
        return None
    response = dns.message.make_response(request)
    response.flags |= dns.flags.AA
    for question in request.question:
        if question.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            response.answer.append(dns.rrset.from_text(question.name, 5, dns.rdataclass.IN, dns.rdatatype.A, address))
        if question.rdtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            response.answer.append(dns.rrset.from_text(question.name, 5, dns.rdataclass.IN, dns.rdatatype.TXT, name))
    return response.to_wire()


def serve_dns(sock: socket.socket, name: str, address: str) -> None:
    """Answer queries; each answer leaves from the address its query was sent to (a DSR VIP on lo, say)."""
    sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    while True:
        data, ancillary, _, peer = sock.recvmsg(4096, socket.CMSG_SPACE(IN_PKTINFO.size))
        answer = dns_answer(data, name, address)
        if answer is None:
            continue
        source = [
            (socket.IPPROTO_IP, IP_PKTINFO, IN_PKTINFO.pack(0, IN_PKTINFO.unpack(cdata)[2], bytes(4)))
            for level, kind, cdata in ancillary
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO
        ]
        sock.sendmsg([answer], source, 0, peer)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="The servers of one lab backend.")
    p.add_argument("name", help="the backend's name, sent back in every answer")
    p.add_argument("address", help="the backend's address, the A record of DNS answers")
    p.add_argument("--http", type=int, action="append", default=[], metavar="PORT")
    p.add_argument("--dns", type=int, action="append", default=[], metavar="PORT")
    args = p.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    servers: list[HTTPServer] = []
    for port in args.http:
        server = HTTPServer(("0.0.0.0", port), http_handler(args.name))
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    for port in args.dns:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", port))
        threading.Thread(target=serve_dns, args=(sock, args.name, args.address), daemon=True).start()
    print(f"{args.name}: http {args.http} dns {args.dns}", flush=True)
    stop.wait()
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
