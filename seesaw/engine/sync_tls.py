"""Certificates for the sync port: mutual TLS when seesaw.cfg names them.

[engine] sync_cert, sync_key and sync_ca (PEM; relative paths are under
--config-dir) are this node's certificate and key and the CA both nodes'
certificates are signed by. Each side verifies the other: the backup checks
that the master's certificate names the address it dialled (a
subjectAltName IP entry), the master that the backup's certificate is
signed by the CA. Without the three keys, sync runs in clear text and only
the peer-address check guards it (as in Seesaw v2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from seesaw.config.settings import Settings


class SyncTLSError(Exception):
    """The configured certificate files cannot be used; the text says which and what to do."""


@dataclass(frozen=True)
class SyncTLS:
    cert: bytes
    key: bytes
    ca: bytes

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )


def load(settings: Settings, config_dir: Path) -> SyncTLS | None:
    """The sync certificates seesaw.cfg names, or None for clear text; SyncTLSError if unusable."""
    names = {"sync_cert": settings.sync_cert, "sync_key": settings.sync_key, "sync_ca": settings.sync_ca}
    if not any(names.values()):
        return None
    data: dict[str, bytes] = {}
    for key, value in names.items():
        if not value:
            raise SyncTLSError(f"[engine] {key} is not set: sync TLS needs sync_cert, sync_key and sync_ca together")
        path = Path(value) if Path(value).is_absolute() else config_dir / value
        try:
            data[key] = path.read_bytes()
        except OSError as err:
            raise SyncTLSError(
                f"cannot read {path} ([engine] {key}): {err.strerror}; fix the path or the file's permissions"
            ) from None
        if b"-----BEGIN " not in data[key]:
            raise SyncTLSError(f"{path} ([engine] {key}) is not a PEM file")
    return SyncTLS(data["sync_cert"], data["sync_key"], data["sync_ca"])
