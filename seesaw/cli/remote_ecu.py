"""`seesaw --ecu HOST[:PORT]`: a node's ECU control API over TLS, with a client certificate.

The ECU passes each call on to its engine for the user the certificate
names (CN, and the subject's OUs as groups); the engine decides what that
user may do. Files (flags, or these defaults):

    --ca    ~/.seesaw/ca.crt       the CA that signed the ECU's certificate
    --cert  ~/.seesaw/client.crt   this user's certificate, signed by the cluster's CA
    --key   ~/.seesaw/client.key   its private key

When a call cannot get through, the connector finds out why with a plain TCP
connection and a TLS handshake of its own (stdlib `ssl`), and says so in one
line: unknown host, nothing listening, a server certificate the CA does not
vouch for, or a client certificate the ECU refused.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from seesaw.cli.client import CONNECT_TIMEOUT
from seesaw.cli.errors import EngineUnreachable
from seesaw.cli.grpc_caller import CHANNEL_OPTIONS, GrpcCaller, signals_held
from seesaw.pb import ecu_pb2_grpc

DEFAULT_PORT = 10256
DEFAULT_DIR = Path("~/.seesaw")


@dataclass(frozen=True)
class ClientTLS:
    ca: Path
    cert: Path
    key: Path
    server_name: str = ""  # the name to expect in the ECU's certificate, if not the host's

    @classmethod
    def defaults(cls) -> ClientTLS:
        base = DEFAULT_DIR.expanduser()
        return cls(base / "ca.crt", base / "client.crt", base / "client.key")


def parse_target(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]:port`, `v6` -> (host, port); ValueError with what was expected."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"expected HOST[:PORT], got {text!r}")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"expected HOST[:PORT] with PORT 1-65535, got {text!r}")
    return host, int(port_text)


class ECUConnector:
    def __init__(self, target: str, tls: ClientTLS, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        try:
            self.host, self.port = parse_target(target)
        except ValueError as err:
            raise EngineUnreachable(f"--ecu: {err}") from None
        self.tls = tls
        self.connect_timeout = connect_timeout
        address = f"[{self.host}]" if ":" in self.host else self.host
        self.address = f"{address}:{self.port}"
        self.where = f"the ECU at {self.address}"

    def _read(self, path: Path, what: str, flag: str) -> bytes:
        try:
            return path.expanduser().read_bytes()
        except OSError as err:
            raise EngineUnreachable(
                f"Cannot read {what} {path}: {err.strerror or err}. Give it with {flag} (see README, 'The ECU API')."
            ) from None

    def open(self) -> GrpcCaller:
        ca = self._read(self.tls.ca, "the CA certificate", "--ca")
        cert = self._read(self.tls.cert, "the client certificate", "--cert")
        key = self._read(self.tls.key, "the client key", "--key")
        options = list(CHANNEL_OPTIONS)
        if self.tls.server_name:
            options.append(("grpc.ssl_target_name_override", self.tls.server_name))
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
        with signals_held():
            channel = grpc.secure_channel(self.address, credentials, options=options)
        return GrpcCaller(channel, ecu_pb2_grpc.SeesawECUStub(channel))

    def transport_failure(self, details: str) -> str:
        return self.diagnose() or f"Lost the connection to {self.where}: {details or 'unavailable'}."

    def diagnose(self) -> str | None:
        """Why nothing gets through to the ECU (one line), or None if TCP and TLS both work."""
        prefix = f"Failed to connect to {self.where}"
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except socket.gaierror:
            return f"{prefix}: cannot resolve {self.host}. Check the name given to --ecu."
        except ConnectionRefusedError:
            return f"{prefix}: connection refused. Is seesaw-ecu running there, with its control API on this port?"
        except TimeoutError:
            return f"{prefix}: no answer within {self.connect_timeout:g} s. Is the host up, and the port open?"
        except OSError as err:
            return f"{prefix}: {(err.strerror or str(err)).lower()}."
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.set_alpn_protocols(["h2"])
        try:
            context.load_verify_locations(cafile=str(self.tls.ca.expanduser()))
            context.load_cert_chain(str(self.tls.cert.expanduser()), str(self.tls.key.expanduser()))
        except (OSError, ssl.SSLError) as err:
            raw.close()
            return f"{prefix}: the client certificate files cannot be used: {err}. Check --ca, --cert and --key."
        refused = (
            f"{prefix}: it refused this client's certificate ({{}}). "
            "The certificate must be signed by the cluster's CA: check --cert and --key."
        )
        try:
            with context.wrap_socket(raw, server_hostname=self.tls.server_name or self.host) as tls:
                tls.settimeout(self.connect_timeout)
                # With TLS 1.3 the client's handshake completes before the server has checked the client's
                # certificate: an HTTP/2 server that accepted it speaks first (SETTINGS); one that refused it
                # sends an alert or just hangs up.
                if not tls.recv(1):
                    return refused.format("it hung up after the handshake")
        except ssl.SSLCertVerificationError as err:
            return (
                f"{prefix}: its certificate is not trusted: {str(err.verify_message).rstrip('.')}. "
                "Check --ca, and --server-name if the certificate names another host."
            )
        except ssl.SSLError as err:
            return refused.format(err.reason or err)
        except (OSError, TimeoutError):
            return None
        return None

    def close(self) -> None:
        pass
