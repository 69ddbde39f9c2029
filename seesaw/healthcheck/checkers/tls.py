"""TLS client contexts for probes, built once (building one costs milliseconds).

`tls_verify` false means what it meant in Seesaw: encrypt, but accept any
certificate and any name. True verifies the chain against the system CAs and
the name against the SNI/Host the check uses.
"""

from __future__ import annotations

import ssl
from functools import cache


@cache
def client_context(verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def server_name(host: str) -> str:
    """The SNI / verification name for a Host value: drop any port and IPv6 brackets."""
    if host.startswith("["):
        return host[1 : host.index("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.rsplit(":", 1)[0]
    return host


def describe_tls_error(err: ssl.SSLError) -> str:
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {err.verify_message} (set tls_verify: false to skip verification)"
    reason = err.reason or str(err)
    return f"TLS handshake failed: {reason.lower().replace('_', ' ')}"
