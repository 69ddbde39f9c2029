"""Who is on the other end of a Unix socket, as the kernel says.

`SO_PEERCRED` gives the peer's pid, uid and gid as they were when it
connected; `SO_PEERGROUPS` (Linux 4.13+) its supplementary groups. Neither
can be forged by the peer: this is how a server decides who may do what,
never from a field the client fills in.

One process may speak for another user: the ECU authenticates a remote user
by client certificate and passes the user on in the DELEGATE_* metadata of
its calls. The engine honours that metadata only from a caller whose own
kernel credentials it trusts (root, or its own uid).
"""

from __future__ import annotations

import grp
import pwd
import socket
import struct
from dataclasses import dataclass

# Not every Python exposes these constants; the values are Linux's (asm-generic/socket.h).
SO_PEERCRED = getattr(socket, "SO_PEERCRED", 17)
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
_MAX_GROUPS = 65536

# gRPC metadata a trusted delegate (the ECU) sends with a call it makes for a remote user.
DELEGATE_USER = "seesaw-delegate-user"
DELEGATE_GROUPS = "seesaw-delegate-groups"  # comma-separated
DELEGATE_VIA = "seesaw-delegate-via"  # how the delegate knows the user ("ecu, ipv4:192.0.2.7:51234")


@dataclass(frozen=True)
class PeerCred:
    pid: int
    uid: int
    gid: int
    groups: tuple[int, ...] = ()  # supplementary groups (the primary gid may or may not be among them)

    def all_gids(self) -> frozenset[int]:
        return frozenset((self.gid, *self.groups))


def peer_credentials(sock: socket.socket) -> PeerCred:
    """The credentials of the process connected to the AF_UNIX stream socket `sock`."""
    pid, uid, gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, SO_PEERCRED, _UCRED.size))
    return PeerCred(pid=pid, uid=uid, gid=gid, groups=_peer_groups(sock))


def _peer_groups(sock: socket.socket) -> tuple[int, ...]:
    size = 64 * 4
    while size <= _MAX_GROUPS * 4:
        try:
            raw = sock.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, size)
        except OSError as err:
            if err.errno == 34:  # ERANGE: the buffer is too small for the peer's groups
                size *= 4
                continue
            if err.errno == 92:  # ENOPROTOOPT: a kernel older than 4.13 has no SO_PEERGROUPS
                return ()
            raise
        return struct.unpack(f"{len(raw) // 4}I", raw[: len(raw) // 4 * 4])
    return ()


def user_name(uid: int) -> str:
    """The login name of `uid`, or the number as text if it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_names(gids: frozenset[int]) -> frozenset[str]:
    """The names of `gids`; a gid with no name is left out (it cannot match a configured group)."""
    names = set()
    for gid in gids:
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return frozenset(names)
