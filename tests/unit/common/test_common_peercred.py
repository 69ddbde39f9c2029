"""SO_PEERCRED and SO_PEERGROUPS on a real Unix socket pair: the kernel's word on who is at the other end."""

from __future__ import annotations

import grp
import os
import pwd
import socket

from seesaw.common import peercred


def test_peer_of_a_socket_pair_is_this_process():
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        cred = peercred.peer_credentials(left)
    assert (cred.pid, cred.uid, cred.gid) == (os.getpid(), os.geteuid(), os.getegid())
    assert set(cred.groups) == set(os.getgroups())
    assert cred.all_gids() == frozenset({os.getegid(), *os.getgroups()})


def test_names():
    assert peercred.user_name(os.geteuid()) == pwd.getpwuid(os.geteuid()).pw_name
    assert peercred.user_name(4_000_000_123) == "4000000123"  # no such user: the number
    assert peercred.group_names(frozenset({os.getegid(), 4_000_000_123})) == {grp.getgrgid(os.getegid()).gr_name}
