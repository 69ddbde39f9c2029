"""HA's own system calls for a takeover kit (seesaw/ha/lb_raise.py): the rtnetlink messages it reads and writes.

The calls themselves run on a real kernel in tests/integration/ncc/test_ncc_host_rtnl.py (the kit carried out in
a namespace lab, the client's neighbour entry moved).
"""

import errno
import os
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


@pytest.mark.skipif(os.geteuid() != 0, reason="AF_PACKET needs CAP_NET_RAW")
def test_the_frame_sender_keeps_one_socket_per_interface_open_and_replaces_a_broken_one() -> None:
    sender = lb_raise.FrameSender()
    frame = b"\xff" * 6 + b"\x02" + b"\x00" * 5 + b"\x88\xb5" + b"seesaw test"  # local experimental ethertype
    sender.prepare("lo")
    opened = sender._sockets["lo"]
    sender.send("lo", [frame, frame])
    assert sender._sockets["lo"] is opened  # kept open: no close (an RCU grace period) between sends
    opened.close()  # a socket gone bad (as when the interface was made again)
    sender.send("lo", [frame])
    assert sender._sockets["lo"] is not opened and sender._sockets["lo"].fileno() >= 0
    with pytest.raises(OSError):
        sender.send("no-such-link0", [frame])
    assert "no-such-link0" not in sender._sockets and sender._sockets == {}  # lo's dropped: one interface kept
    sender.prepare("lo")
    sender.close()
    assert sender._sockets == {}
