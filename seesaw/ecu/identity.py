"""Who a remote caller is, from the client certificate TLS verified. Pure.

The user is the subject's CN; its groups are the subject's OUs (an OU naming
a role group, such as `seesaw-admin`, gives that role; one naming an access
group of cluster.pb, or a group an access grant names, gives that grant).
The subject arrives from gRPC as an RFC 4514 (RFC 2253) string such as
`CN=alice,OU=seesaw-admin,O=Example`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class NotAuthenticated(Exception):
    """The call carries no usable client certificate; the text says what is missing."""


@dataclass(frozen=True)
class RemoteUser:
    user: str
    groups: tuple[str, ...]
    subject: str
    peer: str  # gRPC's peer string: ipv4:192.0.2.7:51234

    def via(self) -> str:
        return f"ecu, certificate {self.subject!r}, peer {self.peer}"


def parse_subject(subject: str) -> list[tuple[str, str]]:
    """The attribute=value pairs of a distinguished name string, in order, with escapes undone."""
    pairs: list[tuple[str, str]] = []
    key: list[str] = []
    value: list[str] = []
    current = key
    i = 0
    while i < len(subject):
        ch = subject[i]
        if ch == "\\" and i + 1 < len(subject):
            nxt = subject[i + 1]
            hexpair = subject[i + 1 : i + 3]
            if len(hexpair) == 2 and all(c in "0123456789abcdefABCDEF" for c in hexpair):
                current.append(chr(int(hexpair, 16)))
                i += 3
                continue
            current.append(nxt)
            i += 2
            continue
        if ch == "=" and current is key:
            current = value
        elif ch in ",+" and current is value:
            pairs.append(("".join(key).strip().upper(), "".join(value).strip()))
            key, value = [], []
            current = key
        else:
            current.append(ch)
        i += 1
    if key or value:
        pairs.append(("".join(key).strip().upper(), "".join(value).strip()))
    return pairs


def remote_user(auth_context: Mapping[str, Sequence[bytes]], peer: str) -> RemoteUser:
    """The user of a TLS call, from gRPC's auth context; NotAuthenticated if it has no certificate subject."""
    subjects = auth_context.get("x509_subject") or ()
    if not subjects:
        raise NotAuthenticated("no client certificate: connect with a certificate signed by this cluster's CA")
    subject = subjects[0].decode(errors="replace")
    pairs = parse_subject(subject)
    names = [v for k, v in pairs if k == "CN" and v]
    if not names:
        raise NotAuthenticated(f"the client certificate's subject {subject!r} has no CN to name its user")
    groups = tuple(v for k, v in pairs if k == "OU" and v)
    return RemoteUser(user=names[0], groups=groups, subject=subject, peer=peer)
