"""HA's own system calls for a takeover kit (seesaw/ha/lb_raise.py): the rtnetlink messages it reads and writes.

The calls themselves run on a real kernel in tests/integration/ncc/test_ncc_host_rtnl.py (the kit carried out in
a namespace lab, the client's neighbour entry moved).
"""

import errno
import socket
import struct

import pytest
from pyroute2 import IPRoute

from seesaw.ha import lb_raise

HEADER = struct.Struct("=IHHII")
IFINFO = struct.Struct("=BxHiII")


def newlink(index: int, flags: int, kind: int = lb_raise.RTM_NEWLINK, attrs: bytes = b"\x08\x00\x03\x00eth1") -> bytes:
    body = IFINFO.pack(socket.AF_UNSPEC, 1, index, flags, 0xFFFFFFFF) + attrs
    return HEADER.pack(HEADER.size + len(body), kind, 0, 0, 0) + body


def ack(code: int) -> bytes:
    body = struct.pack("=i", code) + HEADER.pack(32, lb_raise.RTM_NEWLINK, 5, 1, 0)
    return HEADER.pack(HEADER.size + len(body), lb_raise.NLMSG_ERROR, 0, 1, 0) + body


def test_a_notification_says_when_the_link_runs():
    up = lb_raise.IFF_UP
    running = lb_raise.IFF_UP | lb_raise.IFF_RUNNING
    assert lb_raise.running_in(newlink(3, running), 3)
    assert not lb_raise.running_in(newlink(3, up), 3)  # up, no carrier yet
    assert not lb_raise.running_in(newlink(4, running), 3)  # another link
    assert not lb_raise.running_in(newlink(3, running, kind=17), 3)  # RTM_DELLINK
    assert lb_raise.running_in(newlink(4, running) + newlink(3, up) + newlink(3, running), 3)  # one of several
    assert not lb_raise.running_in(b"\x00" * 10, 3)  # short
    assert not lb_raise.running_in(HEADER.pack(0, 16, 0, 0, 0) + b"\x00" * 16, 3)  # a zero length ends the read


def test_the_kernels_answer_to_link_up():
    lb_raise._check_ack(ack(0))
    with pytest.raises(OSError) as refused:
        lb_raise._check_ack(ack(-errno.EPERM))
    assert refused.value.errno == errno.EPERM
    with pytest.raises(OSError):
        lb_raise._check_ack(newlink(3, 0))  # not an answer
    with pytest.raises(OSError):
        lb_raise._check_ack(b"\x00" * 8)


def test_a_link_named_so_no_more_is_left_alone():
    lo = socket.if_nametoindex("lo")
    with pytest.raises(OSError) as moved:
        lb_raise.set_link_up("lo", lo + 1000)  # the name names another link now: nothing is sent
    assert moved.value.errno == errno.ENODEV and f"is link {lo} now" in str(moved.value)
    with pytest.raises(OSError) as gone:
        lb_raise.set_link_up("no-such-link0", 7)
    assert gone.value.errno == errno.ENODEV


def test_whether_a_link_runs_is_its_flags():
    with IPRoute() as ipr:  # the kernel's own word (dev_get_flags, as rtnetlink reports it), in this namespace
        (lo,) = ipr.get_links(ifname="lo")
    flags = lo["flags"]
    assert lb_raise.runs("lo") is bool(flags & lb_raise.IFF_RUNNING)
    with pytest.raises(OSError):
        lb_raise.runs("no-such-link0")
